"""Domain types and pure logic. Nothing in here performs I/O."""
