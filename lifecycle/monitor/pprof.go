package monitor

import (
	"net/http"
	"net/http/pprof"
)

// NewProfileHandler returns Go's pprof handlers under /debug/pprof/ on a
// mux of their own, for the profiling listener. (Importing net/http/pprof
// also registers them on http.DefaultServeMux; natsd never serves that
// mux.)
func NewProfileHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
