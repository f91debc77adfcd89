package conn

import (
	"testing"

	"github.com/natsd/natsd/auth"
	"github.com/natsd/natsd/conn/subject"
)

// BenchmarkOnPubPermissions is a whole PUB of 16 bytes to one subscriber,
// from the parser's callback to the subscriber's queued MSG, for a client
// without permissions and for one whose publish permissions are checked
// (allow list and deny list; one cached lookup per subject).
func BenchmarkOnPubPermissions(b *testing.B) {
	perms := auth.Compile(&auth.Permissions{Publish: &auth.SubjectPermission{
		Allow: []string{"bench.>", "_INBOX.>"}, Deny: []string{"bench.secret.>"},
	}})
	for _, tc := range []struct {
		name  string
		perms *auth.Perms
	}{{"none", nil}, {"checked", perms}} {
		b.Run(tc.name, func(b *testing.B) {
			sh := &Shared{Index: subject.NewIndex[*Subscription](), Stats: &Stats{}}
			cfg := &Config{MaxControlLine: 4096, MaxPayload: 1 << 20, MaxPending: 64 << 20}
			pub := New(1, &discardConn{}, cfg, sh)
			pub.opts.Verbose, pub.opts.Pedantic = false, false
			pub.auth.perms.Store(tc.perms)
			dc := &discardConn{}
			sub := New(2, dc, cfg, sh)
			s := &Subscription{conn: sub, subject: "bench.x", sid: "1"}
			if err := sub.auth.acc.insert(s); err != nil {
				b.Fatal(err)
			}
			writerDone := make(chan struct{})
			sub.live.Store(1)
			go func() { sub.writeLoop(); close(writerDone) }()
			publishLoop(b, pub)
			sub.Close(ServerShutdown)
			<-writerDone
		})
	}
}
