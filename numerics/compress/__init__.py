"""Weight compression: the seed's post-training methods behind one call, numerics.compress."""

from . import aqlm, binary, lattice, mixed, pruning, scalar, trellis  # noqa: F401 - registers the methods
from .base import SCALE_FORMATS, CompressedWeight, Stored, compress, compression_methods, method_options
from .hadamard import RandomHadamard, hadamard_matrix, incoherence
from .io import load_weights, minilm

__all__ = ["SCALE_FORMATS", "CompressedWeight", "RandomHadamard", "Stored", "compress", "compression_methods",
           "hadamard_matrix", "incoherence", "load_weights", "method_options", "minilm"]
