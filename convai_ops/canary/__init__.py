"""Progressive delivery: a tested branch serves a share of live callers before it is merged.

- ``config``: the ``canary:`` block of convai-ops.yaml and the branch description;
- ``stats``: the statistical decision (pure);
- ``metrics``: live conversations per side and metric;
- ``state``: where a canary's state lives in the API (description, name, split);
- ``engine``: one decision at a time (deploy, judge, next step, roll back);
- ``run``: the canary inside ``apply`` and the steps of ``convai-ops canary``;
- ``resume``: what a later run rebuilds to merge a canary's branch;
- ``traffic``: split warnings for plan, apply and drift;
- ``render``: ``canary status`` as text or JSON.

Nothing is imported here: ``convai_ops.spec`` reads ``config`` at every load.
"""
