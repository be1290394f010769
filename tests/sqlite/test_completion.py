"""`ncm completion bash|zsh|fish` through the real `ncm`: the scripts load in the real shells
and complete ncm's commands; --install puts them where the shells look."""

import shutil
import subprocess

import pytest


def shell(name):
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (scripts/services.sh installs it)")
    return path


def script(ncm, project, name):
    path = project / f"ncm.{name}"
    path.write_text(ncm("completion", name).stdout)
    return path


def test_bash_script_registers_a_completion_function_for_ncm(ncm, project):
    path = script(ncm, project, "bash")
    done = subprocess.run([shell("bash"), "-c", f"source {path}; complete -p ncm"], capture_output=True, text=True)
    assert done.stdout.strip() == "complete -F _ncm ncm", done.stderr


def test_bash_completes_a_command_name(ncm, project):
    path = script(ncm, project, "bash")
    done = subprocess.run([shell("bash"), "-c", f'source {path}; COMP_WORDS=(ncm rol); COMP_CWORD=1; _ncm; '
                                                'echo "${COMPREPLY[@]}"'], capture_output=True, text=True)
    assert done.stdout.split() == ["rollback"], done.stderr


def test_bash_completes_the_choices_of_an_option(ncm, project):
    path = script(ncm, project, "bash")
    done = subprocess.run([shell("bash"), "-c", f'source {path}; COMP_WORDS=(ncm --environment pr); COMP_CWORD=2; '
                                                '_ncm; echo "${COMPREPLY[@]}"'], capture_output=True, text=True)
    assert done.stdout.split() == ["production"], done.stderr


def test_zsh_script_is_valid_zsh(ncm, project):
    path = script(ncm, project, "zsh")
    done = subprocess.run([shell("zsh"), "-n", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert path.read_text().startswith("#compdef ncm")


def test_install_puts_the_zsh_script_on_the_fpath_zshrc_sets_so_compinit_binds_it_to_ncm(ncm, project):
    home = project / "home"
    home.mkdir()
    ncm("completion", "zsh", "--install", env={"HOME": str(home)})
    done = subprocess.run([shell("zsh"), "-fc", 'source ~/.zshrc; autoload -U compinit; compinit -u; '
                                                'print -r -- "$_comps[ncm]"'],
                          capture_output=True, text=True, env={"HOME": str(home), "PATH": "/usr/bin:/bin"})
    assert done.stdout.strip() == "_cyclopts_ncm", done.stderr


def test_fish_completes_a_command_name(ncm, project):
    path = script(ncm, project, "fish")
    done = subprocess.run([shell("fish"), "--no-config", "-c", f'source {path}; complete -C "ncm rol"'],
                          capture_output=True, text=True)
    assert [line.split("\t")[0] for line in done.stdout.splitlines()] == ["rollback"], done.stderr


def test_install_writes_the_bash_script_where_bash_completion_looks_and_loads_it_from_bashrc(ncm, project):
    home = project / "home"
    home.mkdir()
    done = ncm("completion", "bash", "--install", env={"HOME": str(home)})
    installed = home / ".local/share/bash-completion/completions/ncm"
    assert f"installed bash completion in {installed}" in done.stdout
    assert "complete -F _ncm ncm" in installed.read_text()
    assert str(installed) in (home / ".bashrc").read_text()


def test_install_writes_the_fish_script_in_fish_completions(ncm, project):
    home = project / "home"
    home.mkdir()
    ncm("completion", "fish", "--install", env={"HOME": str(home)})
    assert "complete -c ncm" in (home / ".config/fish/completions/ncm.fish").read_text()


def test_an_unknown_shell_is_refused(ncm):
    done = ncm("completion", "tcsh", check=2)
    assert 'Invalid value "tcsh"' in done.stderr and done.stdout == ""
