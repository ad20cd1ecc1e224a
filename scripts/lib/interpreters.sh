# Finding the interpreters on this machine, for scripts/reference.sh. Source after common.sh.
#
# Candidates come from PATH and from the usual version managers: pyenv (versions/*/bin), rbenv,
# asdf (installs/python|ruby/*/bin), uv's managed Pythons, conda (base and envs). Version
# managers' shims are left out (they stand for one of the real executables found beside them);
# two paths to one file count once. Each candidate is asked what it is (scripts/reference/
# probe.py, or RUBY_VERSION for a Ruby); one that does not answer is skipped with a note.

# interpreter_candidates: prints every candidate executable, one path a line, in the order
# PATH, pyenv, rbenv, asdf, uv, conda.
interpreter_candidates() {
  local name dir exe
  local IFS=:
  for dir in $PATH; do
    [[ -n "$dir" && "$dir" != */shims && "$dir" != */shims/ ]] || continue
    for exe in "$dir"/python "$dir"/python[23] "$dir"/python[23].[0-9] "$dir"/python[23].[0-9][0-9] \
      "$dir"/python3.[0-9][0-9]t "$dir"/pypy "$dir"/pypy3 "$dir"/ruby; do
      [[ -x "$exe" && ! -d "$exe" ]] && printf '%s\n' "$exe"
    done
  done
  unset IFS
  local pyenv=${PYENV_ROOT:-$HOME/.pyenv} rbenv=${RBENV_ROOT:-$HOME/.rbenv}
  local asdf=${ASDF_DATA_DIR:-$HOME/.asdf}
  local uv=${UV_PYTHON_INSTALL_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/uv/python}
  for dir in "$pyenv"/versions/* "$asdf"/installs/python/* "$uv"/*; do
    for name in python3.[0-9][0-9]t python pypy3 python3; do
      if [[ -x "$dir/bin/$name" ]]; then
        printf '%s\n' "$dir/bin/$name"
        break
      fi
    done
  done
  for dir in "$rbenv"/versions/* "$asdf"/installs/ruby/*; do
    [[ -x "$dir/bin/ruby" ]] && printf '%s\n' "$dir/bin/ruby"
  done
  local conda
  for conda in ${CONDA_PREFIX:+"$CONDA_PREFIX"} "$HOME"/miniconda3 "$HOME"/anaconda3 \
    "$HOME"/miniforge3 "$HOME"/mambaforge "$HOME"/.conda /opt/conda; do
    for dir in "$conda" "$conda"/envs/*; do
      [[ -x "$dir/bin/python" ]] && printf '%s\n' "$dir/bin/python"
    done
  done
  return 0
}

# probe_interpreter EXE: prints FAMILY<TAB>VERSION<TAB>LABEL for EXE; fails (with the reason on
# stdout) when it does not run.
probe_interpreter() {
  local exe=$1 out rc=0
  if [[ "$(basename "$exe")" == ruby* ]]; then
    out=$(timeout 20 "$exe" -e 'print "Ruby\t#{RUBY_ENGINE} #{RUBY_VERSION}\truby#{RUBY_VERSION}\n"' 2>&1) || rc=$?
  else
    out=$(timeout 20 "$exe" "$CONVOY_ROOT/scripts/reference/probe.py" 2>&1) || rc=$?
  fi
  if ((rc != 0)) || [[ "$out" != *$'\t'*$'\t'* ]]; then
    printf '%s\n' "${out%%$'\n'*}"
    return 1
  fi
  printf '%s\n' "$out"
}

# interpreter_matches SELECTOR LABEL FAMILY: whether --interpreters' SELECTOR picks the
# interpreter: 'all'; a family word ('python' every CPython, 'python2', 'python3', 'pypy',
# 'pypy3', 'ruby'); or a label or its prefix up to a dot or dash ('python3.11', 'python3.11.7').
interpreter_matches() {
  local selector=$1 label=$2 family=$3
  case "$selector" in
    all) return 0 ;;
    python) [[ "$family" == CPython* ]] ;;
    python2 | python3) [[ "$label" == "$selector".* || "$label" == "$selector" ]] ;;
    pypy) [[ "$family" == PyPy ]] ;;
    ruby) [[ "$family" == Ruby ]] ;;
    *) [[ "$label" == "$selector" || "$label" == "$selector".* || "$label" == "$selector"-* ]] ;;
  esac
}

# valid_interpreter_selector SELECTOR: whether SELECTOR can name an interpreter at all.
valid_interpreter_selector() {
  [[ "$1" =~ ^(all|python([23](\.[0-9]+(\.[0-9]+t?)?)?)?|pypy([0-9]+(\.[0-9]+(-[0-9.]+)?)?)?|ruby([0-9.]+)?)$ ]]
}

# find_interpreters SELECTORS EXPLICIT...: fills the arrays INTERP_LABEL, INTERP_PATH,
# INTERP_FAMILY and INTERP_VERSION with the interpreters to measure: every EXPLICIT LABEL=PATH
# (from --interpreter), then, when SELECTORS is not empty, the candidates found that a selector
# picks. Notes what it skips and why.
find_interpreters() {
  local selectors=$1
  shift
  INTERP_LABEL=() INTERP_PATH=() INTERP_FAMILY=() INTERP_VERSION=()
  local pair label exe info family version real selector picked i found=()
  local -A seen_file=() seen_label=()
  for pair in "$@"; do
    label=${pair%%=*} exe=${pair#*=}
    if ! info=$(probe_interpreter "$exe"); then
      note "$label: $exe does not run ($info), skipped"
      continue
    fi
    IFS=$'\t' read -r family version _ <<<"$info"
    INTERP_LABEL+=("$label") INTERP_PATH+=("$exe") INTERP_FAMILY+=("$family") INTERP_VERSION+=("$version")
    seen_file[$(readlink -f "$exe")]=1 seen_label[$label]=1
  done
  [[ -n "${selectors// /}" ]] || return 0
  while IFS= read -r exe; do
    real=$(readlink -f "$exe")
    [[ -z "${seen_file[$real]:-}" ]] || continue
    seen_file[$real]=1
    if ! info=$(probe_interpreter "$exe"); then
      note "$exe does not run ($info), skipped"
      continue
    fi
    IFS=$'\t' read -r family version label <<<"$info"
    picked=0
    for selector in $selectors; do
      if interpreter_matches "$selector" "$label" "$family"; then picked=1; fi
    done
    ((picked)) || continue
    if [[ -n "${seen_label[$label]:-}" ]]; then
      # The same version twice (a distribution's and a version manager's): both, told apart.
      i=2
      while [[ -n "${seen_label[$label-$i]:-}" ]]; do i=$((i + 1)); done
      label=$label-$i
    fi
    seen_label[$label]=1
    found+=("$label"$'\t'"$family"$'\t'"$version"$'\t'"$exe")
  done < <(interpreter_candidates)
  # In order of version: python2.7.18 before python3.6.15 before python3.10.13.
  while IFS=$'\t' read -r label family version exe; do
    [[ -n "$label" ]] || continue
    INTERP_LABEL+=("$label") INTERP_PATH+=("$exe") INTERP_FAMILY+=("$family") INTERP_VERSION+=("$version")
  done < <(printf '%s\n' ${found[@]+"${found[@]}"} | sort -V -t $'\t' -k1,1)
  return 0
}

# check_interpreter_choice SELECTORS [LABEL=PATH ...] — dies, before anything is started, on a
# selector find_interpreters does not know or an --interpreter that is not LABEL=PATH of an
# executable file.
check_interpreter_choice() {
  local selectors=$1 selector pair
  shift
  for selector in $selectors; do
    valid_interpreter_selector "$selector" ||
      die "unknown interpreter '$selector' (all, python, python2, python3, pypy, pypy3, ruby or a version such as python3.11)"
  done
  for pair in "$@"; do
    [[ "$pair" =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*=.+ ]] ||
      die "--interpreter needs LABEL=PATH (a label of letters, digits and ._+-), not '$pair'"
    [[ -x "${pair#*=}" && ! -d "${pair#*=}" ]] || die "--interpreter ${pair%%=*}: '${pair#*=}' is not an executable file"
  done
}
