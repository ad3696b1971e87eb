"""GNoME-style graph networks for crystal energies (JAX + jraph + flax).

A plain Python package with no Django import: it can be used from a notebook, a
GPU worker or the portal's services. The architecture follows Merchant et al.,
"Scaling deep learning for materials discovery", Nature 624, 80-85 (2023).

Public entry points
-------------------
- :func:`ml_backend.models.create_model` -- build a model from its config.
- :func:`ml_backend.train.train_model` -- train on a list of :class:`ml_backend.data.Sample`.
- :func:`ml_backend.checkpoints.save_checkpoint` / :func:`ml_backend.checkpoints.load_checkpoint`.
- :func:`ml_backend.predict.predict_structures` / :func:`ml_backend.predict.predict_compositions`.
- :func:`ml_backend.ensemble.train_ensemble` / :class:`ml_backend.ensemble.Ensemble` -- models from
  several seeds; median and interquartile range over them, with volume augmentation.
- :func:`ml_backend.data.hash_split`, :class:`ml_backend.data.Sample` -- the paper's split and the
  generic training-example type.
- :func:`ml_backend.scaling.run_scaling_experiment` -- test error against training-set size.
"""
