"""Models as products: training, tracking, registry."""
