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
only INSERTs the event with seq/prev_hash/hash NULL: no lock, so concurrent business
transactions never wait on one another. After commit an integrator (``chain_integrate``,
run from ``transaction.on_commit`` or by ``manage.py audit_integrate --follow``) takes a
transaction-scoped advisory lock, reads the head, hashes the committed pending rows in Python
and seals them with one UPDATE. The alternative -- taking the lock in the business
transaction and computing seq and hash there -- holds the lock until the business commit,
which serialises every writer (bench/bench_audit.py measures both against an unchained
INSERT). Consequences: ``seq`` is gap-free and unique among sealed events; ``ts`` is the
record time; ``audit_verify`` reports the pending (not yet sealed) tail, and the bench reports
integration lag.

Immutability: triggers (migration 0002, ``audit/db.py``) refuse UPDATE (except sealing a
pending row), DELETE and TRUNCATE on Postgres and SQLite; signed checkpoints of the head
go to WORM storage (``audit/checkpoints.py``) so even a consistent rewrite of the whole table
is detected by ``manage.py audit_verify``.

Measured (`make bench`, Postgres 15, one shared and heavily loaded machine, so absolute
figures swing by 2-3x between runs; the ratios within one run are what to compare)
------------------------------------------------------------------------------------
* Append, 8 writers: unchained INSERT 1,565-4,924 ev/s; lock held in the business
  transaction 0.06-0.22x of it; audit_record + integration 0.51-0.95x with a dedicated
  integrator (`audit_integrate --follow`) and 0.57-0.66x with on-commit integration; 0
  forks in every run; integration lag p99 40-130 ms. With 1 writer the per-event
  integration transaction costs more than it saves: the on-commit mode is the convenient
  default (dev, tests, small practices); production with many writers should set
  AUDIT_INTEGRATE_ON_COMMIT=False and run `manage.py audit_integrate --follow`.
* audit_verify on 1,000,000 events: 82,000 ev/s with the Postgres-built hash input, against
  29,000 ev/s re-serialising in Python and 58,000 ev/s for streaming the columns alone in
  the same run. Short of the 200,000 ev/s target; the next step is verifying seq ranges in
  parallel backends (each range starts from the stored hash before it, so links still join).
* Export of 1,000,000 events: ~25,000 rows/s (CSV and JSONL); peak Python memory 11.6 MB
  at 1,000,000 rows against 11.5 MB at 100,000 (flat).
"""
