//! Marks a build on a CPU with AVX-512F (`cpu_has_avx512f`), so that the test of the AVX-512
//! kernels is listed as ignored, with the reason, where it cannot run, instead of passing.

fn main() {
    println!("cargo:rustc-check-cfg=cfg(cpu_has_avx512f)");
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx512f") {
        println!("cargo:rustc-cfg=cpu_has_avx512f");
    }
}
