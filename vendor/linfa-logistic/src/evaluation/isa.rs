//! Which kernels an evaluation runs: portable, AVX2 with FMA, or AVX-512, the best the CPU has,
//! or the one the environment variable [`KERNELS_ENV`] names (so that every path can be measured
//! and tested on one machine; a path the CPU lacks falls back to the best it has).
//!
//! The AVX2 and AVX-512 paths give the same bits (the same chains of fused multiply-adds); the
//! portable path multiplies and adds separately, so its last bits may differ.

use std::sync::OnceLock;

/// The environment variable that forces a kernel path: `portable`, `avx2` or `avx512`.
pub const KERNELS_ENV: &str = "LINFA_LOGISTIC_KERNELS";

/// A family of kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum KernelPath {
    /// Plain Rust, vectorised by the compiler for the baseline target, no fused multiply-add.
    Portable,
    /// Compiled for AVX2 with FMA.
    Avx2,
    /// AVX-512F, register-blocked (dense) or 512-bit lanes (sparse).
    Avx512,
}

impl KernelPath {
    pub fn name(self) -> &'static str {
        match self {
            KernelPath::Portable => "portable",
            KernelPath::Avx2 => "avx2",
            KernelPath::Avx512 => "avx512",
        }
    }

    /// The best path this CPU runs.
    pub fn detected() -> KernelPath {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512f")
                && std::is_x86_feature_detected!("avx2")
                && std::is_x86_feature_detected!("fma")
            {
                return KernelPath::Avx512;
            }
            if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
                return KernelPath::Avx2;
            }
        }
        KernelPath::Portable
    }
}

/// The path evaluations run: [`KERNELS_ENV`] if set (and the CPU has it), else the best the CPU
/// has. Read once per process.
pub fn kernel_path() -> KernelPath {
    static PATH: OnceLock<KernelPath> = OnceLock::new();
    *PATH.get_or_init(|| {
        let best = KernelPath::detected();
        let forced = match std::env::var(KERNELS_ENV).as_deref() {
            Ok("portable") => KernelPath::Portable,
            Ok("avx2") => KernelPath::Avx2,
            Ok("avx512") => KernelPath::Avx512,
            _ => best,
        };
        forced.min(best)
    })
}

/// True where the path multiplies and adds in one rounding (AVX2 and AVX-512).
pub(crate) fn fused() -> bool {
    kernel_path() >= KernelPath::Avx2
}
