"""Session-wide settings of the test suite."""

import signal

# A shell that starts a command in the background (`make test &`, some CI runners) makes it ignore SIGINT, and
# every process it starts inherits that: the fault tests' Ctrl-C would then never reach `fcnbook`. A Python
# handler here is reset to the default in each child at exec, so the children see SIGINT as a terminal sends it.
signal.signal(signal.SIGINT, signal.default_int_handler)


# -- `make test-fast`: the tests that take more than a few seconds -----------------------------------------------

import pytest  # noqa: E402  (after the signal handler, which must be set first)

#: Node ids (a module, or a test with all its parameters) marked ``heavy``: ``make test-fast`` deselects them with
#: ``-m "not slow and not browser and not heavy"``; ``make test`` runs them. Seconds: the longest wall time of three
#: runs (``--durations``) on the 2-core AMD EPYC shared with other work, load average 1-6; every test that took
#: 2.5 s or more in the first run, or 5 s or more in a later one (the same test varied up to 10x with the load).
#: tests/test_suite.py checks that each entry still names a module or a test function.
HEAVY: dict[str, float] = {
    "tests/test_oracle.py": 191,  # 18 trainings against a plain PyTorch loop
    "tests/test_faults.py": 291,  # real processes, real signals, real data
    "tests/test_train.py::test_stacked_members_reproduce_single_runs": 36,
    "tests/test_train.py::test_same_seed_same_numbers_other_seed_other_numbers": 6.2,
    "tests/test_beyond.py::test_comparison_table_drops_and_sentence_from_real_runs": 17,
    "tests/test_beyond.py::test_quick_profile_runs_a_tiny_study_and_full_reads_only_a_stored_one": 14.5,
    "tests/test_beyond.py::test_full_chapter_without_a_stored_study_says_how_to_run_one": 12.7,
    "tests/test_tune.py::test_two_machines_share_one_postgresql_study": 16.7,
    "tests/test_tune.py::test_a_killed_worker_trial_is_retried_and_the_study_completes": 13,
    "tests/test_tune.py::test_journal_file_shared_by_two_local_workers": 9.6,
    "tests/test_tune.py::test_quick_study_runs_and_show_lists_its_trials": 6.8,
    "tests/test_tune.py::test_show_into_a_closed_pipe_stops_quietly": 4.8,
    "tests/test_tune_workers.py::test_sigterm_stops_every_local_worker_and_each_records_it": 6.7,
    "tests/test_tune_workers.py::test_trials_reached_and_timeout_are_recorded": 3.3,
    "tests/test_tune_sampling.py::test_a_quick_study_prunes_by_epoch_and_never_at_the_end": 6.2,
    "tests/test_tune_recipes.py::test_a_recipe_is_not_pruned_where_the_same_trial_would_be": 4.2,
    "tests/test_notebooks_open.py::test_a_paired_section_runs_under_papermills_cli": 14.7,
    "tests/test_notebooks_open.py::test_jupytext_sync_pairs_every_section_and_keeps_the_sources": 3.2,
    "tests/test_notebooks_open.py::test_papermill_cli_runs_a_notebook_with_the_project_header": 3.0,
    "tests/test_provenance.py::test_verify_passes_on_untouched_records_and_fails_on_an_altered_one": 13,
    "tests/test_provenance.py::test_verify_of_a_record_made_with_more_threads_than_cpus_here_uses_the_tolerance": 8.7,
    "tests/test_provenance.py::test_compare_stores_finds_identical_different_and_missing_records": 3.6,
    "tests/test_provenance.py::test_table_lists_each_configuration_with_its_machine": 3.6,
    "tests/test_kernels.py::test_stacked_linear_matches_baddbmm_forward_and_backward": 10.7,  # 6 parameters
    "tests/test_cli.py::test_unknown_section_and_parameter": 8.0,
    "tests/test_svd_study.py::test_resubstitution_classifies_the_support_vectors_only_and_agrees_exactly": 7.2,
    "tests/test_svd_study.py::test_real_data_smoke": 2.6,
    "tests/test_store.py::test_a_stack_stopped_between_its_records_resumes_as_that_stack": 6.5,
    "tests/test_store.py::test_an_interrupted_run_says_what_was_kept_and_resumes_with_the_same_numbers": 6.4,
    "tests/test_store.py::test_run_trains_missing_then_reuses": 3.3,
    "tests/test_book.py::test_run_section_injects_hides_and_rereads_the_source": 3.2,
    "tests/test_book.py::test_figures_survive_a_non_inline_mplbackend": 3.0,
    "tests/test_recipes.py::test_resuming_mid_schedule_and_mid_augmentation_gives_the_same_numbers": 2.6,
    "tests/test_recipes.py::test_stacked_members_reproduce_single_runs": 33,  # 2 parameters
    "tests/test_recipes.py::test_flip_averaging_and_ensemble_equal_plain_pytorch": 16.8,
    "tests/test_recipes.py::test_bf16_lands_close_to_fp32_and_stacks_like_a_lone_run": 8.6,
    "tests/test_tune.py::test_a_study_never_evaluates_the_test_set": 15.4,
    "tests/test_tune.py::test_the_same_configuration_is_not_trained_twice": 10.9,
    "tests/test_tune_recipes.py::test_recipes_run_first_once_and_to_their_end": 9.4,
    # the study fixture:
    "tests/test_beyond.py::test_the_recipe_is_the_best_mean_over_the_selection_seeds_and_mnist_drops_flips": 9.0,
    "tests/test_selection.py::test_select_on_the_command_line_rescores_without_the_test_set_then_tests_the_recipe_once":
        30.5,
    "tests/test_train.py::test_loss_goes_down_and_accuracy_up": 9.2,
    "tests/test_train.py::test_test_accuracy_is_pooled_over_all_test_images_not_averaged_over_chunks": 6.7,
    "tests/test_train.py::test_run_diverging_in_epoch_1_is_marked_and_measured_at_its_initial_weights": 5.9,
}


def _heavy(nodeid: str) -> bool:
    return any(nodeid == k or nodeid.startswith((f"{k}::", f"{k}[")) for k in HEAVY)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _heavy(item.nodeid):
            item.add_marker(pytest.mark.heavy)
