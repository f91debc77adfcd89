package main

import (
	"os"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
)

// max_subscriptions and its alias max_subs are read from the config file,
// as nats-server reads them; a value below -1 is refused.
func TestMaxSubscriptionsConfig(t *testing.T) {
	cases := []struct {
		conf string
		want int
		err  string
	}{
		{"max_subscriptions: 100\n", 100, ""},
		{"max_subs: 7\n", 7, ""},
		{"max_subscriptions: 0\n", 0, ""},
		{"max_subscriptions: -1\n", -1, ""},
		{"max_subscriptions: -2\n", 0, "max_subscriptions: -2 is not a limit (0 or -1 mean unlimited)"},
		{"max_subscriptions: \"many\"\n", 0, "max_subscriptions: expected an integer"},
	}
	for _, tc := range cases {
		t.Run(tc.conf, func(t *testing.T) {
			conf := filepath.Join(t.TempDir(), "natsd.conf")
			assert.NilError(t, os.WriteFile(conf, []byte(tc.conf), 0o644))
			_, st, err := parse(t, "-c", conf)
			if tc.err == "" {
				assert.NilError(t, err)
				assert.Equal(t, st.Server.MaxSubs, tc.want)
				return
			}
			if err == nil {
				err = st.Server.Validate()
			}
			assert.ErrorContains(t, err, tc.err)
		})
	}
}
