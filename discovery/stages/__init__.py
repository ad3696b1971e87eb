"""The stages of a discovery round (Merchant et al., Nature 624, 80 (2023): the GNoME data flywheel), one module
each, every one exposing ``run(round)``:

generate -> filter -> evaluate -> ingest -> hull -> retrain -> metrics

Each stage is a service over the round's rows: it records its state and progress on its ``RoundStage``
(``discovery.stages.bookkeeping``) and is idempotent, keyed by candidate id, so running it again (a retry, a
worker killed mid-stage) adds nothing twice. ``discovery.advance`` decides which stage runs next, for the
in-process runner and the Celery tasks alike.
"""
