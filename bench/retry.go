package main

import "fmt"

// runTries is how many times a run is tried before the benchmark gives up:
// on a loaded 2-core machine either server may drop a subscriber as slow,
// which spoils that run, not the measurement.
const runTries = 3

// try runs run up to runTries times, waiting for a quiet machine before
// each try, and returns nil after the first that succeeds. Each try gets
// its own subject (subject, then subject.retry1, ...), so that nothing
// left of a failed try is counted in the next.
func (h *harness) try(key, subject string, run func(subject string) error) error {
	var err error
	for i := range runTries {
		subj := subject
		if i > 0 {
			logf("    %s: %v; trying again (%d of %d)", key, err, i+1, runTries)
			subj = fmt.Sprintf("%s.retry%d", subject, i)
		}
		h.waitQuiet()
		if err = run(subj); err == nil {
			return nil
		}
	}
	return fmt.Errorf("%s: %w", key, err)
}
