"""User and CI tools the product does not import: widen_model.py and the environment scripts."""
