from __future__ import annotations

import pytest

from queuectl import config
from queuectl.errors import InvalidInput


@pytest.mark.parametrize(
    "name", ["max_retries", "max-retries", "MAX_RETRIES", "default_max_retries", "retries"]
)
def test_key_spellings_name_the_same_key(name: str) -> None:
    assert config.canonical_key(name) == "max_retries"


def test_lease_alias() -> None:
    assert config.canonical_key("lease") == "lease_duration"


def test_unknown_key_lists_the_valid_ones() -> None:
    with pytest.raises(InvalidInput, match=r"unknown config key 'colour'.*max_retries"):
        config.canonical_key("colour")


@pytest.mark.parametrize(
    ("key", "value", "stored"),
    [("max_retries", "5", "5"), ("backoff_base", "1.5", "1.5"), ("backoff_max", "3600", "1h"),
     ("lease_duration", "90s", "90s"), ("job_timeout", "none", "none"),
     ("output_limit", "2MiB", "2MiB"), ("durability", "NORMAL", "normal")],
)
def test_values_are_validated_and_normalized(key: str, value: str, stored: str) -> None:
    assert config.normalize_value(key, value) == stored


@pytest.mark.parametrize(
    ("key", "value"),
    [("max_retries", "-1"), ("max_retries", "three"), ("backoff_base", "0.5"),
     ("backoff_max", "soon"), ("lease_duration", "100ms"), ("durability", "paranoid"),
     ("poll_interval", "0")],
)
def test_bad_values_are_refused_naming_the_key(key: str, value: str) -> None:
    with pytest.raises(InvalidInput, match=key):
        config.normalize_value(key, value)


def test_environment_overrides_stored_values_which_override_defaults() -> None:
    stored = {"max_retries": "5", "backoff_base": "3"}
    settings = config.resolve(stored, {"QUEUECTL_BACKOFF_BASE": "4"})
    assert settings.max_retries == 5
    assert settings.backoff_base == 4.0
    assert settings.lease_duration == config.Settings().lease_duration


def test_bad_environment_value_is_reported() -> None:
    with pytest.raises(InvalidInput, match="max_retries"):
        config.resolve({}, {"QUEUECTL_MAX_RETRIES": "many"})


def test_resolve_only_refuses_the_keys_it_is_given() -> None:
    stored = {"lease_duration": "soon", "max_retries": "5"}
    with pytest.raises(InvalidInput, match=r"^lease_duration: expected a duration"):
        config.resolve(stored, {})
    settings = config.resolve(stored, {}, only=("max_retries", "webhook"))
    assert (settings.max_retries, settings.lease_duration) == (5, 30.0)  # the default lease
    with pytest.raises(InvalidInput, match=r"^lease_duration: "):
        config.resolve(stored, {}, only=("lease_duration",))


def test_a_jobs_parse_reads_only_the_settings_an_enqueue_refuses() -> None:
    """``JOB_SETTINGS`` is what an enqueue refuses when stored by hand: a parse that read
    another setting would take it at its default without a word."""
    from queuectl.jobspec.parse import JOB_SETTINGS, parse_job_spec, parse_job_specs

    class OnlyJobSettings:
        def __getattr__(self, name: str) -> object:
            assert name in JOB_SETTINGS, f"the parse read {name}"
            return getattr(config.Settings(on_finish="true", webhook="http://x"), name)

    full = {"command": "true", "id": "j", "env": {"A": "1"}, "timeout": 5, "priority": 2,
            "delay": "1m", "tags": ["t"], "backoff_base": 3, "output_limit": 1000}
    settings: config.Settings = OnlyJobSettings()  # type: ignore[assignment]
    assert parse_job_spec(full, settings).on_finish == "true"
    assert len(parse_job_specs([{"command": "true"}, full], settings)) == 2
