"""Anomaly models: streaming detectors, sensor-fault diagnosis and trained models.

``detectors`` holds the river-style streaming detectors (``learn_one`` / ``score_one``),
``faults`` the per-sensor fault diagnosis, ``health`` what the evaluation step keeps per
sensor, ``neighbours`` drift against sensors of the same kind in the same region, ``trained``
the batch-scored scikit-learn models and ``evaluate`` a NAB-style scorer.
"""
