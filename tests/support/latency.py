"""The promise that a kill shows within 2 seconds, as the tests hold the code to it.

Under mutmut the same code runs traced (its stats pass) or through its
trampolines (each mutant), several times slower, so there the budget is
five times as long; every plain run of the suite, CI's included, holds
the code to the 2 seconds users are promised.
"""

from __future__ import annotations

import os

SHOWN_WITHIN = 2.0 * (5 if "MUTANT_UNDER_TEST" in os.environ else 1)
