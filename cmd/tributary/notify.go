package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
	"golang.org/x/sys/unix"
)

// notifier tells systemd (Type=notify) about the daemon's state through
// $NOTIFY_SOCKET. Without that variable every call does nothing.
type notifier struct {
	log *slog.Logger
}

// send sends state, logging (at Debug) a failure: systemd notices a missing
// READY or WATCHDOG by itself, so the daemon carries on.
func (n notifier) send(state string) {
	if _, err := sd.SdNotify(false, state); err != nil {
		n.log.Debug("sd_notify failed", slog.String("state", state), slog.Any("error", err))
	}
}

// ready says startup or a reload is finished.
func (n notifier) ready() { n.send(sd.SdNotifyReady) }

// stopping says the daemon is shutting down.
func (n notifier) stopping() { n.send(sd.SdNotifyStopping) }

// reloading says a reload started. systemd 253 and later also want the
// CLOCK_MONOTONIC time of the request in MONOTONIC_USEC.
func (n notifier) reloading() {
	var ts unix.Timespec
	state := sd.SdNotifyReloading
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err == nil {
		state += fmt.Sprintf("\nMONOTONIC_USEC=%d", ts.Nano()/1000)
	}
	n.send(state)
}

// watchdog pings systemd's watchdog every half WatchdogSec while healthy
// says the daemon makes progress, until ctx is done. It does nothing when
// the unit has no watchdog.
func (n notifier) watchdog(ctx context.Context, healthy func(context.Context) error) {
	interval, err := sd.SdWatchdogEnabled(false)
	if err != nil || interval <= 0 {
		return
	}
	t := time.NewTicker(interval / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := healthy(ctx); err != nil {
			n.log.Warn("watchdog ping withheld", slog.Any("error", err))
			continue
		}
		n.send(sd.SdNotifyWatchdog)
	}
}
