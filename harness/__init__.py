"""The machinery the benchmark (`python -m bench.*`) and the fault drills (`python -m drills`)
both run on: the app's processes, private services, load, draining, the oracle, reports.

bench/ and drills/ keep only their entry points, scenarios, targets and output formats;
tests import the private services from here. Importing a module starts nothing.
"""
