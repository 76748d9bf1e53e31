"""The PMMTalk model's speed on this machine's CPU (``make bench``): the shipped checkpoint live on one
core (the target: 0.25x real time, the streaming recogniser included), then the real-time factor of
each branch and of the whole model offline for the wav2vec 2.0 config and the paper-size config, all
measured in this one run.

Real-time factor = compute time / audio time (below 1 keeps up; the live target for the shipped model
is 0.25 for the whole pipeline). Weights are random (speed does not depend on them); the paper-size
audio encoder has wav2vec 2.0 base's shape, built from its config, since no pretrained weights are
reachable offline. Text: the recogniser named by the config (pocketsphinx for the default, the shipped
Whisper tiny.en through faster-whisper for the paper size) plus the word encoder and the text encoder.
Visual: the Wav2Lip generator (36 M parameters) on every frame, plus the mouth encoder.

    python scripts/bench_model.py [--seconds 8] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from pmmtalk_live.model.config import ModelConfig, paper_config
from pmmtalk_live.model.pmmtalk import PMMTalk
from pmmtalk_live.tracks import Audio, num_frames_for
from pmmtalk_live.train.batches import collate

EXAMPLE = Path(__file__).resolve().parents[1] / "pmmtalk_live" / "data" / "example.wav"


def timed(fn, repeats: int = 2) -> float:
    """Best of ``repeats`` after one warm-up call, in seconds."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def bench(name: str, config: ModelConfig, audio: np.ndarray, device: str) -> list[tuple[str, float]]:
    seconds = len(audio) / 16000
    config.audio_checkpoint = None  # the architecture's shape, random weights: no download
    model = PMMTalk(config).to(device).eval()
    num_frames = num_frames_for(seconds, config.fps)
    item = {"id": "bench", "subject": None, "start_frame": 0, "audio": torch.from_numpy(audio),
            "coeffs": torch.zeros(num_frames, 32), "style": 0}
    rows = []
    with torch.no_grad():
        batch = collate([item]).to(device)
        rows.append(("audio branch (wav2vec 2.0)", timed(lambda: model.audio(batch.audio, batch.audio_lengths,
                                                                            num_frames)) / seconds))
        if config.text:
            from pmmtalk_live.model.encoders.text import WordEncoder, text_frames
            from pmmtalk_live.model.recognizers import make_recognizer

            recognizer = make_recognizer(config.recognizer)
            words = WordEncoder(config.word_encoder) if config.word_encoder else None
            transcript = recognizer.recognize(Audio(audio))
            rows.append((f"  recogniser ({config.recognizer}), whole recording", timed(lambda: recognizer.recognize(Audio(audio)), 1) / seconds))
            if config.text_stream:
                from pmmtalk_live.model.live_words import transcript_track

                rows.append((f"  recogniser streaming (a pass every {config.text_step_s:g} s), instead",
                             timed(lambda: transcript_track(audio, config, num_frames), 1) / seconds))
            phone_ids, word_vectors = text_frames(transcript, num_frames, config.fps, words)
            item.update(phone_ids=torch.from_numpy(phone_ids), word_vectors=torch.from_numpy(word_vectors))
            batch = collate([item]).to(device)
            rows.append(("  text encoder", timed(lambda: model.text(batch.phone_ids, batch.word_vectors,
                                                                     batch.frame_mask)) / seconds))
        if config.visual:
            from pmmtalk_live.model.encoders.face import default_face
            from pmmtalk_live.model.encoders.visual import PseudoVisual, Wav2Lip

            generator = PseudoVisual(Wav2Lip().eval(), default_face(), device=device)
            short = audio[: 16000]  # the generator is slow on a CPU: one second is enough to time it
            frames_1s = num_frames_for(1.0, config.fps)
            rows.append(("  Wav2Lip generator", timed(lambda: generator.generate_mouths(short, config.fps, frames_1s), 1)))
            item["mouths"] = torch.zeros(num_frames, 48, 96, 3, dtype=torch.uint8)
            batch = collate([item]).to(device)
            rows.append(("  mouth encoder", timed(lambda: model.visual[0](batch.mouths, batch.frame_mask)) / seconds))
        features, present = model.encode(batch)

        def align_fuse_decode():
            model.alignment(features, present, batch.frame_mask)
            model.decoder(model.fusion(features, present), batch.styles, batch.frame_mask)

        rows.append(("alignment + fusion + decoder", timed(align_fuse_decode) / seconds))
        rows.append(("whole model (all branches, recognition and generation included)",  # the recogniser once
                     sum(v for label, v in rows if not (config.text_stream and "whole recording" in label))))
    params = sum(p.numel() for p in model.parameters()) / 1e6
    print(f"{name}: {params:.1f} M parameters (Wav2Lip generator not counted), {seconds:.1f} s of speech, "
          f"{config.fps} fps, device {device}, {torch.get_num_threads()} threads")
    for label, rtf in rows:
        print(f"  {label:<66} real-time factor {rtf:7.3f}")
    return rows


LIVE_TARGET_RTF = 0.25
HOP_SAMPLES = 160


def bench_shipped_live(audio: np.ndarray, repeats: int = 3) -> bool:
    """The shipped checkpoint live, as the engine drives it: 10 ms hops on one core, the streaming
    recogniser included. CPU time (best of ``repeats``) over audio time, per part and whole."""
    import os

    from pmmtalk_live.threads import one_thread

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    with one_thread():
        ok = _shipped_live(audio, repeats)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, range(os.cpu_count() or 1))
    return ok


def _shipped_live(audio: np.ndarray, repeats: int) -> bool:
    from pmmtalk_live.animators import DEFAULT_MODEL
    from pmmtalk_live.animators.pmmtalk import LivePMMTalkAnimator
    from pmmtalk_live.model.inference import load_model
    from pmmtalk_live.model.live_text import LiveVisemes

    model = load_model(DEFAULT_MODEL)
    seconds = len(audio) / 16000

    def cpu_rtf(make, feed) -> float:
        best = float("inf")
        for _ in range(repeats):
            target = make()
            start = time.process_time()
            for i in range(0, len(audio), HOP_SAMPLES):
                feed(target, audio[i:i + HOP_SAMPLES])
            best = min(best, time.process_time() - start)
        return best / seconds

    parts = []
    if model.text is not None and model.config.text_input == "visemes":
        parts.append(("  streaming recogniser -> viseme track (pocketsphinx)",
                      cpu_rtf(lambda: LiveVisemes(model.config), lambda t, x: t.push(x))))
    branch = {"whisper": "Whisper encoder windows + head", "mel": "filterbank stream"}.get(
        model.config.audio_encoder, "wav2vec 2.0 chunks")
    parts.append((f"  audio branch ({branch})", cpu_rtf(lambda: model.audio.stream(), lambda t, x: t.push(x))))
    whole = cpu_rtf(lambda: LivePMMTalkAnimator(model, fps=60, lookahead_s=0.1), lambda t, x: t.process(x))
    params = sum(p.numel() for p in model.parameters()) / 1e6
    print(f"shipped model '{DEFAULT_MODEL}' live: {params:.2f} M parameters, {seconds:.1f} s of speech in 10 ms hops, "
          f"60 fps, look-ahead {LivePMMTalkAnimator(model, 60, 0.1).lookahead_s * 1000:.1f} ms, one core, CPU time")
    for label, rtf in parts:
        print(f"  {label:<66} real-time factor {rtf:7.3f}")
    print(f"  {'  fusion + text encoder + decoder + gate (the rest)':<66} real-time factor {whole - sum(r for _, r in parts):7.3f}")
    ok = whole <= LIVE_TARGET_RTF
    print(f"  {'whole live animator':<66} real-time factor {whole:7.3f}   target <= {LIVE_TARGET_RTF}   "
          f"{'ok' if ok else 'FAIL'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    audio, _ = sf.read(EXAMPLE, dtype="float32")
    audio = audio[: int(args.seconds * 16000)]
    ok = bench_shipped_live(audio)
    bench("wav2vec 2.0 config (ModelConfig defaults)", ModelConfig(), audio, args.device)
    bench("paper-size config (wav2vec 2.0 base, Whisper tiny, Wav2Lip)", paper_config(), audio, args.device)
    print(f"bench_model: {'PASS' if ok else 'FAIL'} (the shipped model live on one core <= {LIVE_TARGET_RTF}x real time)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
