"""Graded exercises: the checks that run a learner's answer against the package's own, and the troubleshooting diagnosis."""
