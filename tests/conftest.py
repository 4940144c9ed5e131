"""Session-wide settings of the test suite."""

import signal

# A shell that starts a command in the background (`make test &`, some CI runners) makes it ignore SIGINT, and
# every process it starts inherits that: the fault tests' Ctrl-C would then never reach `fcnbook`. A Python
# handler here is reset to the default in each child at exec, so the children see SIGINT as a terminal sends it.
signal.signal(signal.SIGINT, signal.default_int_handler)
