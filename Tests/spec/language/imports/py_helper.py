GREETING = "hello from a .py module"
