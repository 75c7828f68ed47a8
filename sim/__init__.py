"""A local Particle Cloud simulator: `python -m sim`, or `sim.app.create_app`."""
