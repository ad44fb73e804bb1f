// Package websub implements both sides of W3C WebSub
// (https://www.w3.org/TR/websub/) for tributary.
//
// Hub is the hub of tributary's own feeds: it takes subscription and
// unsubscription requests at one URL, verifies the intent of each with
// the subscriber's callback, keeps the subscriptions in the store (they
// survive a restart), and when a topic changes delivers the new document
// to every subscriber, signed with the subscriber's secret, retrying with
// backoff under a concurrency bound, until the lease expires.
//
// Subscriber subscribes to the hubs that sources advertise (Discover), at a
// callback URL with an opaque id per subscription, answers verification
// only for the requests it made, checks the signature of every push with a
// random per-subscription secret, hands valid pushes to an ingest function,
// renews leases before they expire and unsubscribes sources that left the
// config.
//
// Both use an injected clock, so tests move time instead of sleeping, and
// an HTTP client that refuses private addresses unless told otherwise
// (NewClient), since callback and hub URLs come from outside.
package websub
