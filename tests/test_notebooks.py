"""The notebooks' settings cell; both scripts run as notebooks in test_ann_script.py and
test_cnn_script.py,
beside the script runs they are compared with (one worker computes those runs once)."""


def test_settings_cell_and_command_line_add_up(monkeypatch):
    from tutorial_support.common import cli

    monkeypatch.setattr("sys.argv", ["ann.py", "--epochs", "7"])
    # the last wins
    assert cli.command_line("--epochs 3 --folds 5") == [
        "--epochs",
        "3",
        "--folds",
        "5",
        "--epochs",
        "7",
    ]
    assert not cli.in_notebook()  # pytest has imported jupyter's client, but this is no kernel
    monkeypatch.setattr(cli, "in_notebook", lambda: True)
    assert cli.command_line("--epochs 3") == ["--epochs", "3"]  # the kernel's own argv is ignored
