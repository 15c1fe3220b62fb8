"""The hash-chained audit trail of every PHI read and write (HIPAA 164.312(b), (c)).

`audit` knows nothing of the clinic: it takes ids and strings. Other apps use only:

* ``audit.services.audit_record(*, action, actor, resource_type, resource_id, practice_id,
  detail=None) -> AuditEvent`` -- the one way to write an event. Call it inside the business
  transaction (it joins it; the event rolls back with the change). ``actor`` is a Django
  user, an ``audit.actors.Actor`` (``Actor.voice_agent(call_sid)``, ``Actor.system("job")``) or
  None for the system. ``detail`` holds ids, field names, counts and reasons, never PHI values
  (no floats: use integers such as milliseconds).
* ``audit.actions.AuditAction`` -- the codes (1xx patient, 2xx appointment, 3xx key, 4xx call,
  5xx auth/staff, 6xx audit, 7xx other). Add new members at the end of their block; never
  reuse a number.
* ``audit.registry.audit_register(Model, *, resource_type="clinic.patient",
  practice_field="practice_id", actions={"create": ..., "update": ..., "delete": ...})`` -- call
  in your AppConfig.ready(); every save()/delete() of the model is then recorded (update with
  the changed field names), and QuerySet.update()/bulk_update()/bulk_create()/delete() are
  recorded per row (bulk_create with ignore_conflicts is refused). Signal-recorded events take
  their actor from the audit context.
* ``audit.context.audit_context(actor=..., request_id=..., ip=...)`` -- a context manager. The
  middleware ``audit.middleware.AuditContextMiddleware`` sets it per request; the voice
  consumer sets ``audit_context(actor=Actor.voice_agent(call_sid), request_id=call_sid)``.
* ``audit.admin_mixins.AuditedReadAdminMixin`` -- inherit it first in a ModelAdmin of a PHI
  model: the change view records a VIEW event, each changelist page records a LIST_VIEW event
  with the ids shown. Set ``audit_resource_type``, ``audit_view_action``,
  ``audit_list_action`` and ``audit_practice_field`` on the admin class.
* ``settings.AUDIT_PRACTICE_SCOPE_RESOLVER`` -- dotted path to ``f(user) -> list of practice
  ids | None`` (None: all practices). The clinic provides
  ``clinic.selectors.practice_ids_for_user``; compliance officers then see only their
  practices' events. Superusers always see all.

Design of the chain (why events are integrated in batches)
-----------------------------------------------------------
The canonical form and the hash rule are specified in ``audit/chain.py``. ``audit_record``
INSERTs the event and a row naming it in the work queue ``audit_pendingevent`` (one statement,
a prepared one on Postgres): no lock, so concurrent business transactions never wait on one
another. After commit the pending events are sealed in batches under one advisory lock, so the
chain never forks. Sealing an event INSERTs its ``ChainLink`` (seq, prev_hash, hash) and
deletes its queue row; the event row is never touched again. On Postgres the sealing runs in
the database in one round trip: ``CALL audit_chain_integrate_all`` (migration 0004) loops
"pending? try-lock, read head, hash the pending rows with sha256() over the canonical bytes,
INSERT their links, DELETE their queue rows, COMMIT, unlock" and stops when nothing is pending
or the lock is busy. A writer whose try-lock fails relies on the holder; the holder's
"pending?" check at the top of its next round runs after its unlock, i.e. after that writer's
commit, so no event is left pending until some later commit (tests/audit/test_concurrency.py
forces that interleaving). Inside a caller's transaction the function ``audit_chain_integrate``
seals one batch under a transaction-scoped lock; on SQLite a Python integrator does the same.
The alternative -- taking the lock in the business transaction and computing seq and hash
there -- holds the lock until the business commit, which serialises every writer. Consequences:
``seq`` is gap-free and unique among sealed events; ``ts`` is the record time; ``audit_verify``
reports the pending tail, and the bench reports integration lag.

Departure from DESIGN.md's single ``AuditEvent(seq, ..., prev_hash, hash)`` table: the three
chain columns live in ``audit_chainlink`` (one row per sealed event, keyed by seq, unique
event id). ``AuditEvent.seq``, ``.prev_hash`` and ``.hash`` still read them (through
``select_related("link")``), exports and the admin show them, and the hash rule is unchanged.
Why: sealing by UPDATE rewrote the wide event row and all eight of its indexes (non-HOT), about
1.5x the cost of the INSERT itself; inserting a ~150-byte link and deleting a queue row costs a
third of that per event in a batch (41 against 13 microseconds of server time per sealed row,
measured with 20,000 pending events). It also makes both tables strictly append-only: the
triggers no longer need an exception for sealing.

Who seals (settings):

* ``AUDIT_INTEGRATE_ON_COMMIT=True`` (default): the committing thread seals right after its
  commit. Simplest, lowest lag, events are sealed when ``audit_record``'s transaction has
  returned (dev, tests, small practices); each writer pays the seal's round trip and commit.
* ``AUDIT_INTEGRATE_IN_BACKGROUND=True`` (with the above): one sealing thread per process,
  woken after each commit, which waits ``AUDIT_INTEGRATE_BATCH_WAIT`` (50 ms) for commits to
  gather and then seals full batches until a short one; writers return at once.
* ``AUDIT_INTEGRATE_ON_COMMIT=False`` and ``manage.py audit_integrate --follow`` as its own
  process: writers only insert; the integrator seals a round, pauses
  ``AUDIT_INTEGRATE_BATCH_WAIT``, and seals what gathered meanwhile as one batch. The
  production recommendation, with the background thread as the alternative when a separate
  process is not wanted.

Pausing between rounds matters more than it looks: chasing every commit seals batches of one
or two events, and each batch pays a round trip, the lock, the head read and a commit; 50 ms
of gathering turns that into batches of a hundred or more for a lag that stays far below the
one-second target.

Immutability: triggers (migration 0004, ``audit/db.py``) refuse UPDATE, DELETE and TRUNCATE
of events and of chain links on Postgres and SQLite; signed checkpoints of the head
go to WORM storage (``audit/checkpoints.py``) so even a consistent rewrite of the whole table
is detected by ``manage.py audit_verify``. The after-commit path only checks whether a
checkpoint is due when its seal crossed a multiple of AUDIT_CHECKPOINT_EVERY.

Verification: Postgres builds each event's canonical bytes from its columns and its link's
seq and prev_hash (``PG_VERIFY_CANONICAL_SQL``: one concat() for rows whose text needs no
escaping, to_json() for the rest; both pinned to ``canonical_bytes()`` by a test) and sends
only (seq, prev_hash, hash, canonical bytes) through server-side binary cursors, walking the
links in seq order; Python recomputes SHA-256(raw prev_hash || canonical) for every row and
checks every link, seq continuity, that every link's event still exists, that no event is
outside the chain (neither linked nor pending), every checkpoint (signature, name, and that
the chain holds that exact head) and reports the pending tail. Large chains are verified as
consecutive seq ranges on parallel connections (Postgres builds one range while Python hashes
another); each range starts from the stored hash before it and the ranges must join exactly
(tests/audit/test_verify.py).

Measured (`make bench`, Postgres 15, 2 cores, quiet machine; rounds of every design back to
back, ratio taken within each round, median of 3 reported, the lowest round in brackets)
------------------------------------------------------------------------------------------
* Append, 8 writers (threads of one process), against the unchained INSERT of the same rows
  (4,150 ev/s) in the same run: dedicated ``audit_integrate --follow`` 0.86x (0.73), lag p99
  97 ms; background thread 0.80x (0.67), lag p99 89 ms; on-commit in the writer's thread 0.32x,
  lag p99 293 ms; lock held in the business transaction 0.21x. 0 forks and nothing left
  pending in every run. Against the plain INSERT sent the way audit_record sends its own
  (prepared, server-bound; 1.08x the first baseline): integrator 0.80x, background 0.75x.
  Before the link table and the pauses (previous session): 0.51x / 0.61x / 0.47x.
* Append, 1 writer: integrator 0.91x, background 0.88x, on-commit 0.28x; lag p99 61-62 ms
  (each round waits AUDIT_INTEGRATE_BATCH_WAIT).
* Where the time goes (CPU per event, 8 writers, measured per backend): the seal costs the
  integrator's backend about 45 microseconds per event at a 50 ms pause; the prepared insert
  saves the writers' backends about as much again as the queue row costs them.
* audit_verify on 1,000,000 events: 190,900 ev/s with two ranges (165,600-191,200 over three
  passes); one range 96,500 ev/s; re-serialising in Python 31,900 ev/s. Below the 200,000
  target: following each link to its event row (an index probe per row, about 3
  microseconds in Postgres) costs ~15% against the single-table chain, which measured
  230,000 ev/s in the previous session. Tried and not faster here: a correlated subquery,
  a merge join ordered by event id, COPY instead of a cursor, row_to_json through a composite
  type, and streaming events and links separately with the join in Python.
* Export CSV of 1,000,000 events: 42,100 rows/s (JSON Lines 38,800 rows/s on 200,000);
  resident memory growth 0.5 MB at 100,000 rows and the same at 1,000,000 (flat; the export
  streams from a server-side cursor in chunks).
"""
