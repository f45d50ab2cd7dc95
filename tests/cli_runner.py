"""Running the `lowbit` command line inside a test, for the CLI test files."""

from accel.cli import main


def cli(argv, capsys):
    """(exit code, stdout, stderr) of `lowbit argv`; argparse's own errors exit through SystemExit. No
    traceback ever reaches stderr."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err
