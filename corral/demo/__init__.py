"""The built-in demo (`corral demo`): a small shop of services that shows what corral does."""
