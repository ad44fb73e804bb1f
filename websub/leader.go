package websub

// Leader tells whether this process acts for all the processes that share
// one store (several instances on one database): the one that leads
// delivers the hub's updates, expires its leases, and renews and ends the
// subscriber's subscriptions; the others take requests, verifications and
// pushes, reading the state they need from the store. Leading must be
// cheap and safe for concurrent use. A hub or subscriber without a Leader
// is alone with its store, which it then also reads from memory.
//
// Leadership may pass to another process at any time (its holder died):
// the new leader reads the subscriptions and their delivery state from the
// store, so a delivery in flight when the old one died is made again, and
// its subscriber may get that document twice.
type Leader interface {
	Leading() bool
}
