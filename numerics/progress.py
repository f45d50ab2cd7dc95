"""Progress bars: tqdm's notebook widget where ipywidgets is installed, its text bar elsewhere.

`tqdm.auto` warns ("IProgress not found") in a notebook without ipywidgets and then draws the text bar
anyway; lowbit does not require ipywidgets, so that warning is noise every notebook user would see."""

import warnings


def progress_bar(*args, **kwargs):
    """tqdm.auto.tqdm(*args, **kwargs), imported without its missing-ipywidgets warning."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        from tqdm.auto import tqdm
    return tqdm(*args, **kwargs)
