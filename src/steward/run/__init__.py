"""Planning and executing builds."""
