"""Evaluators of candidates (relaxation and energy on the MP2020-corrected scale): no Django import.

- :class:`discovery.evaluation.chgnet_evaluator.CHGNetEvaluator` (the embedded default, CHGNet 0.3.0)
- :class:`discovery.evaluation.vasp_evaluator.VaspEvaluator` (MPRelaxSet inputs, a configured command)

Both implement :class:`discovery.evaluation.base.Evaluator` and return
:class:`discovery.evaluation.base.EvaluationResult` objects.
"""
