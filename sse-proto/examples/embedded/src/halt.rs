//! How every program here ends: `main` idles for ever, and a panic halts.
//! (A module of its own, so that the empty program has it too and nothing
//! else.)

/// Spins for ever: where each `main` ends.
pub fn idle() -> ! {
    loop {
        core::hint::spin_loop();
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    idle()
}
