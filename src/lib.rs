//! A reproducible experiment harness for logistic regression on MNIST, built on linfa.
//!
//! The pipeline, one module per stage:
//! [`config`] (TOML -> validated runs; [`config::params`] is the one table of run parameters) ->
//! [`data`] (vendored MNIST, checked) -> [`split`] (scikit-learn's `train_test_split`, index for
//! index) -> [`preprocessing`] (scalers, fitted on the training part) -> [`model`]
//! (linfa-logistic with scikit-learn's semantics, every fit checked) -> [`metrics`] -> [`store`]
//! (one record per finished run) -> [`tables`], [`report`] and [`charts`] (CSV, PNG, Markdown,
//! all derived from the records) -> [`sweep`] (orchestration, resume, sharding, progress), with
//! [`manifest`] recording provenance.
//!
//! After a sweep: [`model_file`] (each run's fitted model, `model.npz`) and [`predict`] (a saved
//! model on new images, brought to MNIST form by [`digit_image`]); [`parity`] compares results
//! with scikit-learn's and the notebooks'; [`baselines`] (majority class, nearest centroid) give
//! every test set a floor.
//!
//! Shared by all, importing nothing of the crate: [`digits`] (MNIST's shape), [`named`] (enum
//! names), [`text`] (how numbers are printed), [`markdown`] (tables), [`stats`], [`error`].
//! Imports run one way, toward them; each module's header says what it may touch, and
//! `tests/module_graph.rs` checks every header and that no two modules import each other.

pub mod baselines;
pub mod charts;
pub mod cli;
pub mod config;
pub mod data;
pub mod digit_image;
pub mod digits;
pub mod error;
pub mod files;
pub mod folder;
pub mod manifest;
pub mod markdown;
pub mod metrics;
pub mod model;
pub mod model_file;
pub mod named;
pub mod parity;
pub mod predict;
pub mod preprocessing;
pub mod report;
pub mod split;
pub mod stats;
pub mod store;
pub mod sweep;
pub mod tables;
pub mod text;

pub use error::{Error, Result};
