"""Loading a project folder into core types, with every mistake located."""
