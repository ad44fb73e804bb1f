-- Coordination of the fetchers of several instances (package pglease).

-- One row per source ever claimed: when it is next due for a scheduled
-- pass ('infinity': it waits for the operator), and the instance that holds
-- its lease, until when. A lease that has ended is free, so the sources of
-- an instance that died are claimed by the others once it ends.
CREATE TABLE source_leases (
	url         text PRIMARY KEY,
	next_due    timestamptz,
	holder      text,
	lease_until timestamptz
);

-- One row per host asked: when its next request may start (host_interval
-- after the last one started; NULL: at once), and until when it asked every instance to
-- wait (429, or 503 with Retry-After).
CREATE TABLE host_turns (
	host           text PRIMARY KEY,
	next_start     timestamptz,
	deferred_until timestamptz
);

-- The per_host requests in flight to a host: slot numbers 0 to per_host-1,
-- each held by one instance's request until lease_until. A slot whose lease
-- ended is free, so a request of an instance that died frees its slot.
CREATE TABLE host_slots (
	host        text    NOT NULL,
	slot        integer NOT NULL,
	holder      text    NOT NULL,
	lease_until timestamptz NOT NULL,
	PRIMARY KEY (host, slot)
);

CREATE INDEX source_leases_holder ON source_leases (holder) WHERE holder IS NOT NULL;
CREATE INDEX host_slots_holder ON host_slots (holder);
