package pgkv

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Changes returns a channel that receives the generation of each write
// commit to the database, by this DB or any other process, until ctx is
// done; then it is closed. A slow receiver misses generations but never
// the last one: the channel holds the newest generation not received yet.
// It listens on a connection of its own, taken from the pool's
// configuration; when that connection fails it connects again, and then
// sends the current generation, as commits meanwhile were not heard.
func (d *DB) Changes(ctx context.Context) <-chan uint64 {
	ch := make(chan uint64, 1)
	go func() {
		defer close(ch)
		for ctx.Err() == nil {
			d.listen(ctx, ch)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
	return ch
}

// listen forwards the notifications of one connection to ch until the
// connection fails or ctx is done.
func (d *DB) listen(ctx context.Context, ch chan uint64) {
	conn, err := pgx.ConnectConfig(ctx, d.pool.Config().ConnConfig)
	if err != nil {
		return
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return
	}
	var gen int64
	if err := conn.QueryRow(ctx, "SELECT generation FROM kv_generation").Scan(&gen); err != nil {
		return
	}
	send(ch, uint64(gen))
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return
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
