"""The pseudo-visual branch: speech -> Wav2Lip talking-face frames -> mouth features.

    audio 16 kHz --mel.mel_windows--> (T, 1, 80, 16) --\\
    reference face (96, 96, 3) --lower half masked------+--> Wav2Lip (frozen) --> (T, 3, 96, 96)
        --lower half--> mouths (T, 48, 96, 3) uint8 --MouthEncoder--> (T, visual_dim)

``Wav2Lip`` is the public generator's exact module layout (Rudrabha/Wav2Lip ``models/wav2lip.py`` and
``models/conv.py``), so ``wav2lip.pth`` and ``wav2lip_gan.pth`` load strictly with no key renaming:
they were saved from ``nn.DataParallel``, hence ``Wav2LipCheckpoint.module``. The generator is never
trained here; only ``MouthEncoder`` / ``VisualEncoder`` are part of the PMMTalk model.

Generating mouths is the expensive, offline-friendly half (``PseudoVisual.generate_mouths``); the
model consumes the result as ``Batch.mouths`` ((B, T, 3, 48, 96) float 0..1, see ``mouths_to_tensor``).
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ...errors import PmmtalkError
from ...tracks import SAMPLE_RATE_HZ, num_frames_for
from ..config import ModelConfig
from .face import FACE_SIZE, reference_face_from
from .mel import MAX_ABS_VALUE, MEL_FRAMES_PER_S, NUM_MELS, WINDOW_MEL_FRAMES, MelStream, mel_windows

MOUTH_HEIGHT = FACE_SIZE // 2
"""Rows of the generated face the branch keeps: its lower half, the part Wav2Lip repaints."""


class VisualBranchError(PmmtalkError):
    """A Wav2Lip checkpoint that cannot be used: missing, not a Wav2Lip generator, not plain weights."""


# --- the Wav2Lip generator, layer for layer ---------------------------------------------------------

class ConvBN(nn.Module):
    """Wav2Lip's ``Conv2d``: convolution, batch norm, optional identity shortcut, ReLU."""

    def __init__(self, cin: int, cout: int, kernel_size: int, stride: int | tuple[int, int], padding: int,
                 residual: bool = False):
        super().__init__()
        self.conv_block = nn.Sequential(nn.Conv2d(cin, cout, kernel_size, stride, padding), nn.BatchNorm2d(cout))
        self.act = nn.ReLU()
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv_block(x)
        return self.act(out + x if self.residual else out)


class ConvTransposeBN(nn.Module):
    """Wav2Lip's ``Conv2dTranspose``: transposed convolution, batch norm, ReLU."""

    def __init__(self, cin: int, cout: int, kernel_size: int, stride: int, padding: int, output_padding: int = 0):
        super().__init__()
        self.conv_block = nn.Sequential(nn.ConvTranspose2d(cin, cout, kernel_size, stride, padding, output_padding),
                                        nn.BatchNorm2d(cout))
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv_block(x))


def _residuals(channels: int, count: int) -> list[ConvBN]:
    return [ConvBN(channels, channels, 3, 1, 1, residual=True) for _ in range(count)]


def _up(cin: int, cout: int, residual_blocks: int, stride: int = 2) -> nn.Sequential:
    """A decoder block: upsample (x2, or 1x1 -> 3x3 with stride 1) then residual convolutions."""
    if stride == 1:
        first = ConvTransposeBN(cin, cout, 3, 1, 0)
    else:
        first = ConvTransposeBN(cin, cout, 3, 2, 1, output_padding=1)
    return nn.Sequential(first, *_residuals(cout, residual_blocks))


class Wav2Lip(nn.Module):
    """The Wav2Lip generator: a masked face + a reference face + 200 ms of mel -> a face frame.

    Faces are 96x96 in BGR channel order scaled to 0..1 (the public weights were trained on OpenCV
    images); channels 0-2 are the face with its lower half zeroed, 3-5 the reference face.
    """

    def __init__(self):
        super().__init__()
        self.face_encoder_blocks = nn.ModuleList([
            nn.Sequential(ConvBN(6, 16, 7, 1, 3)),                                       # 96x96
            nn.Sequential(ConvBN(16, 32, 3, 2, 1), *_residuals(32, 2)),                 # 48x48
            nn.Sequential(ConvBN(32, 64, 3, 2, 1), *_residuals(64, 3)),                 # 24x24
            nn.Sequential(ConvBN(64, 128, 3, 2, 1), *_residuals(128, 2)),               # 12x12
            nn.Sequential(ConvBN(128, 256, 3, 2, 1), *_residuals(256, 2)),              # 6x6
            nn.Sequential(ConvBN(256, 512, 3, 2, 1), *_residuals(512, 1)),              # 3x3
            nn.Sequential(ConvBN(512, 512, 3, 1, 0), ConvBN(512, 512, 1, 1, 0)),        # 1x1
        ])
        self.audio_encoder = nn.Sequential(                                              # 80x16 mel
            ConvBN(1, 32, 3, 1, 1), *_residuals(32, 2),
            ConvBN(32, 64, 3, (3, 1), 1), *_residuals(64, 2),                            # 27x16
            ConvBN(64, 128, 3, 3, 1), *_residuals(128, 2),                               # 9x6
            ConvBN(128, 256, 3, (3, 2), 1), *_residuals(256, 1),                         # 3x3
            ConvBN(256, 512, 3, 1, 0), ConvBN(512, 512, 1, 1, 0),                        # 1x1
        )
        # Each decoder block's output is concatenated with the matching encoder block's features.
        self.face_decoder_blocks = nn.ModuleList([
            nn.Sequential(ConvBN(512, 512, 1, 1, 0)),                                    # 1x1
            _up(1024, 512, 1, stride=1),                                                 # 3x3
            _up(1024, 512, 2),                                                           # 6x6
            _up(768, 384, 2),                                                            # 12x12
            _up(512, 256, 2),                                                            # 24x24
            _up(320, 128, 2),                                                            # 48x48
            _up(160, 64, 2),                                                             # 96x96
        ])
        self.output_block = nn.Sequential(ConvBN(80, 32, 3, 1, 1), nn.Conv2d(32, 3, 1, 1, 0), nn.Sigmoid())

    def forward(self, audio_sequences: torch.Tensor, face_sequences: torch.Tensor) -> torch.Tensor:
        """(B, 1, 80, 16) mel and (B, 6, 96, 96) faces -> (B, 3, 96, 96) in 0..1; or with time,
        (B, T, 1, 80, 16) and (B, 6, T, 96, 96) -> (B, 3, T, 96, 96)."""
        timed = face_sequences.dim() == 5
        if timed:
            batch, steps = audio_sequences.shape[:2]
            audio_sequences = audio_sequences.flatten(0, 1)
            face_sequences = face_sequences.transpose(1, 2).flatten(0, 1)
        skips = []
        x = face_sequences
        for block in self.face_encoder_blocks:
            x = block(x)
            skips.append(x)
        x = self.audio_encoder(audio_sequences)
        for block in self.face_decoder_blocks:
            x = torch.cat((block(x), skips.pop()), dim=1)
        out = self.output_block(x)
        if timed:
            out = out.unflatten(0, (batch, steps)).transpose(1, 2)
        return out


class Wav2LipCheckpoint(nn.Module):
    """The public checkpoints' key layout (``module.`` from ``nn.DataParallel``) for strict loading."""

    def __init__(self):
        super().__init__()
        self.module = Wav2Lip()


def load_wav2lip(path: str | Path) -> Wav2Lip:
    """The generator from a Wav2Lip checkpoint (``wav2lip.pth``, ``wav2lip_gan.pth``), frozen, in eval mode.

    Accepts ``{"state_dict": {...}}`` (the public files) or a bare state dict, with or without the
    ``module.`` prefix; every key must match (strict). Only tensors and plain containers are unpickled.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise VisualBranchError(f"Wav2Lip checkpoint not found: {path}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        refused = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(error))
        if refused:
            raise VisualBranchError(f"{path}: refused: the file holds Python objects ({refused.group(1)}), not "
                                    "only weights; only plain weight files are loaded") from None
        raise VisualBranchError(f"{path}: not a PyTorch checkpoint{_web_page_hint(path)}") from None
    except (RuntimeError, EOFError, OSError, ValueError) as error:
        raise VisualBranchError(f"{path}: not a PyTorch checkpoint{_web_page_hint(path)} "
                                f"({str(error).splitlines()[0][:100]})") from None
    state = checkpoint.get("state_dict", checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise VisualBranchError(f"{path}: not a Wav2Lip checkpoint (no state dict of tensors)")
    wrapped = bool(state) and all(key.startswith("module.") for key in state)
    with torch.device("meta"):  # no random init of 36 M weights about to be replaced
        target = Wav2LipCheckpoint() if wrapped else Wav2Lip()
    _check_keys(path, target, state)
    try:
        target.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as error:
        mismatch = [line.strip() for line in str(error).splitlines() if "size mismatch" in line]
        raise VisualBranchError(f"{path}: not the Wav2Lip generator's shapes: "
                                f"{'; '.join(mismatch[:2])[:300]}") from None
    generator = target.module if wrapped else target
    generator.eval().requires_grad_(False)
    return generator


def _web_page_hint(path: Path) -> str:
    # A failed download of the weights often saves the hosting site's HTML page under the .pth name.
    with open(path, "rb") as file:
        start = file.read(64).lstrip().lower()
    return ": it is a web page (download the file itself)" if start.startswith((b"<!doctype", b"<html")) else ""


def _check_keys(path: Path, target: nn.Module, state: dict) -> None:
    expected = set(target.state_dict())
    missing, unexpected = sorted(expected - set(state)), sorted(set(state) - expected)
    if missing or unexpected:
        parts = [f"{len(keys)} {what} (e.g. {', '.join(keys[:3])})"
                 for what, keys in (("missing keys", missing), ("unexpected keys", unexpected)) if keys]
        raise VisualBranchError(f"{path}: not a Wav2Lip generator checkpoint: {'; '.join(parts)}")


# --- speech -> mouths ---------------------------------------------------------------------------------

class PseudoVisual:
    """Makes the branch's pseudo-visual frames: the frozen generator animating one reference face.

    ``generator``: a ``Wav2Lip`` (``load_wav2lip``); ``face``: uint8 RGB (96, 96, 3), the default
    reference face; ``frames_per_batch``: frames the generator runs at once (memory vs. speed);
    ``device``, ``half``: where the generator runs, in float16 when ``half`` (on a GPU).
    """

    def __init__(self, generator: Wav2Lip, face: np.ndarray, frames_per_batch: int = 32,
                 device: torch.device | str = "cpu", half: bool = False):
        self.dtype = torch.float16 if half else torch.float32
        self.generator = generator.to(device=device, dtype=self.dtype).eval().requires_grad_(False)
        self.face = _check_face(face)
        self.frames_per_batch = frames_per_batch
        self.device = torch.device(device)

    @torch.inference_mode()
    def generate_mouths(self, samples: np.ndarray, fps: float, num_frames: int,
                        reference_face: np.ndarray | None = None) -> np.ndarray:
        """Lower halves of the generated faces, frame k at time k / fps: uint8 RGB (num_frames, 48, 96, 3).

        samples: float32 16 kHz mono. reference_face: uint8 RGB (96, 96, 3); None = ``self.face``.
        """
        return self.mouths(mel_windows(samples, fps, num_frames), reference_face)

    @torch.inference_mode()
    def mouths(self, windows: np.ndarray, reference_face: np.ndarray | None = None) -> np.ndarray:
        """Mel windows (n, 1, 80, 16) (``mel_windows``) -> the generated mouths, uint8 RGB (n, 48, 96, 3)."""
        face = self.face if reference_face is None else _check_face(reference_face)
        bgr = torch.from_numpy(face[..., ::-1].copy()).permute(2, 0, 1).float() / 255.0
        masked = bgr.clone()
        masked[:, MOUTH_HEIGHT:] = 0.0
        face_input = torch.cat([masked, bgr]).to(self.device, self.dtype)
        windows = torch.from_numpy(np.ascontiguousarray(windows))
        mouths = np.empty((len(windows), MOUTH_HEIGHT, FACE_SIZE, 3), np.uint8)
        for start in range(0, len(windows), self.frames_per_batch):
            audio = windows[start:start + self.frames_per_batch].to(self.device, self.dtype)
            frames = self.generator(audio, face_input.expand(len(audio), -1, -1, -1))
            lower_rgb = frames[:, [2, 1, 0], MOUTH_HEIGHT:].permute(0, 2, 3, 1).float()
            mouths[start:start + len(audio)] = (lower_rgb * 255.0).round().byte().cpu().numpy()
        return mouths


class MouthStream:
    """The pseudo-visual frames of a live stream: frame k's mouth (as ``generate_mouths`` makes it)
    once its 16 mel columns are in, ``window_lookahead_s`` after its time; the frames of one push
    go through the generator together (batched). Not thread-safe; one per stream."""

    def __init__(self, pseudo: PseudoVisual, fps: float):
        self.pseudo = pseudo
        self.fps = float(fps)
        self.mel = MelStream()
        self._columns = np.zeros((NUM_MELS, 0), np.float32)  # mel columns from _first_column on
        self._first_column = 0
        self.ready = 0
        """Frames 0 .. ready - 1 have been made."""
        self._received = 0

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Next audio -> the mouths of the frames it completes, uint8 (n, 48, 96, 3)."""
        self._received += len(np.asarray(samples).reshape(-1))
        self._add(self.mel.push(samples))
        end = self.ready
        while self._start(end) + WINDOW_MEL_FRAMES <= self._first_column + self._columns.shape[1]:
            end += 1
        return self._make(end)

    def flush(self) -> np.ndarray:
        """End of stream -> the rest, up to the frame of the last sample (windows past the end hear silence)."""
        self._add(self.mel.flush())
        return self._make(num_frames_for(self._received / SAMPLE_RATE_HZ, self.fps))

    def _start(self, frame: int) -> int:
        """The frame's first mel column, computed as ``mel_windows`` does."""
        return int((MEL_FRAMES_PER_S * np.arange(frame, frame + 1) / self.fps).astype(np.int64)[0])

    def _add(self, columns: np.ndarray) -> None:
        self._columns = np.concatenate([self._columns, columns], axis=1)

    def _make(self, end: int) -> np.ndarray:
        if end <= self.ready:
            return np.zeros((0, MOUTH_HEIGHT, FACE_SIZE, 3), np.uint8)
        starts = (MEL_FRAMES_PER_S * np.arange(self.ready, end) / self.fps).astype(np.int64) - self._first_column
        needed = int(starts[-1]) + WINDOW_MEL_FRAMES
        columns = self._columns
        if columns.shape[1] < needed:  # only at the end
            columns = np.concatenate([columns, np.full((NUM_MELS, needed - columns.shape[1]), -MAX_ABS_VALUE,
                                                       np.float32)], axis=1)
        windows = np.stack([columns[None, :, s:s + WINDOW_MEL_FRAMES] for s in starts])
        mouths = self.pseudo.mouths(windows)
        self.ready = end
        drop = self._start(end) - self._first_column
        if drop > 0:
            self._columns = self._columns[:, drop:]
            self._first_column += drop
        return mouths


def _check_face(face: np.ndarray) -> np.ndarray:
    face = np.asarray(face)
    if face.shape != (FACE_SIZE, FACE_SIZE, 3) or face.dtype != np.uint8:
        raise ValueError(f"reference face must be uint8 (96, 96, 3), got {face.dtype} {face.shape}")
    return face


def mouths_to_tensor(mouths: np.ndarray) -> torch.Tensor:
    """uint8 (..., 48, 96, 3) from ``generate_mouths`` -> float32 (..., 3, 48, 96) in 0..1 (``Batch.mouths``)."""
    return torch.from_numpy(np.ascontiguousarray(mouths)).movedim(-1, -3).float() / 255.0


def make_pseudo_visual(config: ModelConfig, device: torch.device | str = "cpu", half: bool = False) -> PseudoVisual | None:
    """The branch's frame maker for ``config`` (its generator on ``device``, float16 when ``half``), or
    None when the branch is off (see ``visual_branch_status``)."""
    if not config.visual or not config.wav2lip_checkpoint:
        return None
    return PseudoVisual(load_wav2lip(config.wav2lip_checkpoint), reference_face_from(config.reference_face),
                        device=device, half=half)


def visual_branch_status(config: ModelConfig) -> str:
    """One line for the CLI: whether the visual branch runs, and why not."""
    if not config.visual:
        return "visual branch off: disabled in the model config (visual: false)"
    if not config.wav2lip_checkpoint:
        return "visual branch off: no Wav2Lip checkpoint given (--wav2lip PATH)"
    face = config.reference_face or "the default drawn face"
    return f"visual branch on: Wav2Lip {Path(config.wav2lip_checkpoint).name}, reference face {face}"


# --- mouths -> features (trained with the model) -------------------------------------------------------

class MouthEncoder(nn.Module):
    """A small CNN: mouth images (N, 3, 48, 96) in 0..1 -> features (N, visual_dim).

    Four stride-2 convolutions (48x96 -> 3x6) keep the mouth's layout (open vs. wide vs. rounded) for
    the final linear layer rather than averaging it away. Width scales with ``visual_dim``.
    """

    def __init__(self, visual_dim: int):
        super().__init__()
        width = max(4, visual_dim // 4)
        channels = (3, width, 2 * width, 4 * width, 4 * width)
        layers: list[nn.Module] = []
        for cin, cout in zip(channels[:-1], channels[1:]):
            layers += [nn.Conv2d(cin, cout, 3, 2, 1), nn.GroupNorm(1, cout), nn.GELU()]
        self.convs = nn.Sequential(*layers)
        self.project = nn.Linear(channels[-1] * 3 * 6, visual_dim)

    def forward(self, mouths: torch.Tensor) -> torch.Tensor:
        return self.project(self.convs((mouths - 0.5) / 0.25).flatten(1))


class VisualEncoder(nn.Module):
    """The visual branch inside PMMTalk: mouths (B, T, 3, 48, 96) in 0..1 and frame_mask (B, T) bool
    -> (B, T, visual_dim), zero on padding frames (which are not encoded at all)."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.visual_dim = config.visual_dim
        self.mouth = MouthEncoder(config.visual_dim)

    def forward(self, mouths: torch.Tensor, frame_mask: torch.Tensor) -> torch.Tensor:
        batch, steps = frame_mask.shape
        features = mouths.new_zeros(batch, steps, self.visual_dim)
        features[frame_mask] = self.mouth(mouths[frame_mask])
        return features
