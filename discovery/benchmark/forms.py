"""The dashboard's form that launches a benchmark job: the size of the run; everything else keeps its default."""

from django import forms

from discovery.benchmark.runner import BenchmarkOptions

DEFAULTS = BenchmarkOptions()


class BenchmarkLaunchForm(forms.Form):
    rounds = forms.IntegerField(min_value=1, max_value=50, initial=DEFAULTS.rounds)
    budget = forms.IntegerField(
        min_value=1, max_value=100_000, initial=DEFAULTS.budget, help_text="per round"
    )
    eval_budget = forms.IntegerField(
        min_value=1, max_value=10_000, initial=DEFAULTS.eval_budget, help_text="evaluations per arm and round"
    )
    seed = forms.IntegerField(min_value=0, max_value=2**31 - 1, initial=DEFAULTS.seed)

    def options(self) -> dict:
        return dict(self.cleaned_data)
