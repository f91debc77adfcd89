package main

import (
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/natsd/natsd/lifecycle"
)

// daemon maps process signals to server events.
type daemon struct {
	cli    *CLI
	srv    *lifecycle.Server
	sink   *logSink
	stderr io.Writer
	exit   func(int)
	// upgrades are the upgrades under way, whose answers must be written
	// before the process exits.
	upgrades sync.WaitGroup
}

// trapSignals starts the signal loop and returns a function that stops it.
// Stopping quits the loop but keeps the signals trapped (signal.Stop would
// restore the default actions, so a late SIGHUP or SIGQUIT would kill or
// dump the process as it exits); once the channel is full, late signals are
// dropped.
//
//	SIGINT, SIGQUIT  graceful shutdown (a SIGINT while shutting down exits 1 at once)
//	SIGTERM          graceful shutdown; ignored in lame duck, as nats-server
//	SIGUSR2          lame duck
//	SIGHUP           reload the config file
//	SIGUSR1          reopen the log file
//	SIGTTIN          upgrade: hand the sockets to a new natsd, then lame duck (natsd's own)
func (d *daemon) trapSignals() (stop func()) {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGHUP, upgradeSignal)
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case sig := <-sigs:
				d.handle(sig.(syscall.Signal))
			case <-quit:
				return
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}

// handle acts on one signal. Nothing here blocks for long: shutdown runs in
// its own goroutine so a second signal is still seen.
func (d *daemon) handle(sig syscall.Signal) {
	log := d.sink.log
	name := "signal " + signalName(sig)
	state := d.srv.State()
	switch sig {
	case syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM:
		if sig == syscall.SIGINT && state == lifecycle.ShuttingDown {
			log.Errorf("Trapped %s while shutting down: exiting now", signalName(sig))
			d.srv.RemoveFiles()
			d.exit(exitError)
			return
		}
		if sig == syscall.SIGTERM && state == lifecycle.LameDuck {
			log.Infof("Trapped %s in lame duck mode: ignored (send SIGINT to stop now)", signalName(sig))
			return
		}
		log.Infof("Trapped %s", signalName(sig))
		go d.srv.ShutdownCause(name)
	case syscall.SIGUSR2:
		log.Infof("Trapped %s", signalName(sig))
		if err := d.srv.EnterLameDuckCause(name); err != nil {
			log.Errorf("Lame duck: %v", err)
		}
	case syscall.SIGHUP:
		log.Infof("Trapped %s", signalName(sig))
		if err := d.reload(name); err != nil {
			log.Errorf("Reload failed, keeping the running configuration: %v", err)
		}
	case upgradeSignal:
		log.Infof("Trapped %s: upgrading", signalName(sig))
		d.upgrades.Add(1)
		go func() {
			defer d.upgrades.Done()
			d.upgrade(name)
		}()
	case syscall.SIGUSR1:
		log.Infof("Trapped %s: reopening log file", signalName(sig))
		if err := d.sink.reopen(); err != nil {
			log.Errorf("%v", err)
		} else {
			log.Infof("Log file reopened")
		}
	}
}

// reload re-reads the config file with the command-line flags laid over it
// and hands the result to the server; logging changes apply only if the
// server accepts the reload.
func (d *daemon) reload(cause string) error {
	st, warnings, err := buildSettings(d.cli)
	if err != nil {
		return err
	}
	logging, err := d.sink.prepare(st.Log, d.stderr)
	if err != nil {
		return err
	}
	if err := d.srv.Reload(&st.Server, cause, logging); err != nil {
		return err
	}
	for _, w := range warnings {
		d.sink.log.Warnf("%s", w)
	}
	return nil
}

func signalName(sig syscall.Signal) string {
	switch sig {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGQUIT:
		return "SIGQUIT"
	case syscall.SIGUSR1:
		return "SIGUSR1"
	case syscall.SIGUSR2:
		return "SIGUSR2"
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGTTIN:
		return "SIGTTIN"
	}
	return sig.String()
}
