package pgkv

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Changes returns a channel that receives the current generation, then
// that of each write commit to the database, by this DB or any other
// process, until ctx is done or d is closed; then it is closed. A slow
// receiver misses generations but never the last one: the channel holds
// the newest generation not received yet. It listens on a connection of
// its own (application_name tributary-listen); when that connection fails
// it logs the error, connects again a second later and sends the current
// generation, as commits meanwhile were not heard. Call it before Close.
func (d *DB) Changes(ctx context.Context) <-chan uint64 {
	ch := make(chan uint64, 1)
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(d.closed, cancel)
	d.listeners.Add(1)
	go func() {
		defer d.listeners.Done()
		defer stop()
		defer cancel()
		defer close(ch)
		for ctx.Err() == nil {
			if err := d.listen(ctx, ch); err != nil && ctx.Err() == nil {
				d.log.Warn("database listener failed, reconnecting", slog.Any("error", err))
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
	return ch
}

// listenerName is the application_name of the Changes connection.
const listenerName = "tributary-listen"

// listen forwards the notifications of one connection to ch until the
// connection fails or ctx is done.
func (d *DB) listen(ctx context.Context, ch chan uint64) error {
	cfg := d.pool.Config().ConnConfig // a copy
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = listenerName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("listen: connect: %w", err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return fmt.Errorf("listen %s: %w", notifyChannel, err)
	}
	var gen int64
	if err := conn.QueryRow(ctx, "SELECT generation FROM kv_generation").Scan(&gen); err != nil {
		return fmt.Errorf("listen: read generation: %w", err)
	}
	send(ch, uint64(gen))
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("listen %s: %w", notifyChannel, err)
		}
		if g, err := strconv.ParseUint(n.Payload, 10, 64); err == nil {
			send(ch, g)
		}
	}
}

// send puts gen in ch, in place of a generation not received yet.
func send(ch chan uint64, gen uint64) {
	for {
		select {
		case ch <- gen:
			return
		default:
		}
		select {
		case <-ch:
		default:
		}
	}
}
