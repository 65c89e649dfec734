"""Course-building tools (the static site, the student copies): used by the Makefile and the
tests, not part of the library that learners import."""
