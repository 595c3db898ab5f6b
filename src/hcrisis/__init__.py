"""hcrisis: reproducible analysis of qualitative research corpora.

The pipeline reads as corpus -> segments -> tokens -> frequency tables ->
statistics -> figures; every stage is a module usable from Python, and the
CLI (`hcrisis.cli`) is a thin shell over it.
"""

__version__ = "0.1.0"
