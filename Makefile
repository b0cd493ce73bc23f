# Two commands on a fresh machine: `make demo` and `make test`. Each creates .venv and installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
THRESHER := $(VENV)/bin/thresher
DATA := src/thresher/examples/credit_default_scored.csv

.PHONY: demo test bench clean

$(VENV)/.base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.test: $(VENV)/.base
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.base
	$(THRESHER) evaluate $(DATA) --label default --score score --by student
	@echo; echo "A missed default costs 10x a false alarm: the cost-optimal threshold, overall and by student"
	$(THRESHER) tune $(DATA) --label default --score score --by student --objective "min-cost fn=10 fp=1" --bootstrap 200
	@echo; echo "The most precise threshold that still catches 90% of defaults"
	$(THRESHER) tune $(DATA) --label default --score score --by student --objective "max-precision recall>=0.9"
	@mkdir -p demo-out
	@echo; echo "A policy by student: block at max precision with recall >= 0.5, review within an 8% budget"
	$(THRESHER) policy fit $(DATA) --label default --score score --by student --name credit --version 2 \
	  --objective "max-precision recall>=0.5" --tier "review=budget rate<=0.08" --out demo-out/policy.yaml
	$(THRESHER) policy validate demo-out/policy.yaml
	$(THRESHER) policy apply demo-out/policy.yaml $(DATA) --out demo-out/decisions.parquet
	@echo; echo "What it changes against a single global threshold of 0.5"
	$(THRESHER) policy fit $(DATA) --label default --score score --name credit --objective "fixed 0.5" \
	  --out demo-out/global.yaml > /dev/null
	$(THRESHER) policy diff demo-out/global.yaml demo-out/policy.yaml --data $(DATA) --label default --cost "fn=10 fp=1"
	@echo; echo "The interactive report (open it in a browser; it works offline)"
	$(THRESHER) report $(DATA) --label default --score score --by student --cost "fn=10 fp=1" \
	  --objective "min-cost fn=10 fp=1" --objective "max-precision recall>=0.9" \
	  --policy demo-out/policy.yaml --policy-old demo-out/global.yaml --out demo-out/report.html

# The Spark and Dask tests start a JVM and a Dask cluster with thread pools of their own: they run in a
# process of their own (a full-suite run once hung in Client.gather when they shared the process).
# Hard timeouts make a hang fail instead of eating the CI budget.
DISTRIBUTED := tests/scale/test_spark.py tests/scale/test_dask.py
PYTEST := $(PY) -m pytest -q -p no:cacheprovider -o faulthandler_timeout=600

test: $(VENV)/.test
	bash .ci/system-deps.sh
	timeout 1800 $(PYTEST) $(foreach f,$(DISTRIBUTED),--ignore=$(f))
	timeout 900 $(PYTEST) $(DISTRIBUTED)

bench: $(VENV)/.test
	$(PY) benchmarks/bench_kernel.py

clean:
	rm -rf $(VENV) build *.egg-info demo-out
