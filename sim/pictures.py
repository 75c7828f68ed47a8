"""The pictures devices "take": generated SVG art, the same picture for the same number.

Three families keep a timeline varied: mountain landscapes at some hour of the day,
soft bokeh lights, and layered sea waves. Everything is drawn from a generator
seeded by the picture number, so a URL always shows the same image.
"""

from __future__ import annotations

import colorsys
import itertools
import random
from collections.abc import Callable

WIDTH, HEIGHT = 800, 600


def hsl(hue: float, saturation: float, lightness: float) -> str:
    red, green, blue = colorsys.hls_to_rgb(hue % 1.0, lightness, saturation)
    return f"#{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}"


def picture_svg(number: int) -> str:
    rng = random.Random(number)
    painters: list[Callable[[random.Random], str]] = [_landscape, _bokeh, _waves]
    body = painters[number % len(painters)](rng)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img">'
        f"<title>Simulated photo #{number}</title>{body}</svg>"
    )


def _sky(rng: random.Random, hue: float) -> str:
    top = hsl(hue, 0.55, rng.uniform(0.18, 0.45))
    bottom = hsl(hue + rng.uniform(0.05, 0.15), 0.75, rng.uniform(0.65, 0.8))
    return (
        '<defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">'
        f'<stop offset="0" stop-color="{top}"/><stop offset="1" stop-color="{bottom}"/>'
        '</linearGradient><radialGradient id="glow">'
        '<stop offset="0" stop-color="#fff" stop-opacity="0.9"/>'
        '<stop offset="1" stop-color="#fff" stop-opacity="0"/></radialGradient></defs>'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="url(#sky)"/>'
    )


def _ridge(rng: random.Random, base: float, roughness: float) -> str:
    """A closed path along a random ridge line, smoothed with quadratic curves."""
    steps = rng.randint(5, 9)
    points = [
        (WIDTH * i / steps, base - rng.uniform(0, roughness)) for i in range(steps + 1)
    ]
    path = f"M0,{HEIGHT} L0,{points[0][1]:.0f}"
    for (x1, y1), (x2, y2) in itertools.pairwise(points):
        path += f" Q{x1:.0f},{y1:.0f} {(x1 + x2) / 2:.0f},{(y1 + y2) / 2:.0f}"
    return path + f" L{WIDTH},{points[-1][1]:.0f} L{WIDTH},{HEIGHT} Z"


def _landscape(rng: random.Random) -> str:
    hue = rng.random()
    sun_x, sun_y, sun_r = (
        rng.uniform(120, 680),
        rng.uniform(90, 260),
        rng.uniform(35, 70),
    )
    parts = [
        _sky(rng, hue),
        f'<circle cx="{sun_x:.0f}" cy="{sun_y:.0f}" r="{sun_r * 2.6:.0f}" '
        'fill="url(#glow)"/>',
        f'<circle cx="{sun_x:.0f}" cy="{sun_y:.0f}" r="{sun_r:.0f}" '
        f'fill="{hsl(hue + 0.12, 0.9, 0.85)}"/>',
    ]
    layers = 4
    for layer in range(layers):
        base = 300 + layer * 70
        colour = hsl(hue + 0.5 + layer * 0.03, 0.35, 0.55 - layer * 0.12)
        parts.append(
            f'<path d="{_ridge(rng, base, 160 - layer * 25)}" fill="{colour}"/>'
        )
    for _ in range(rng.randint(2, 5)):
        x, y, size = rng.uniform(80, 720), rng.uniform(60, 220), rng.uniform(8, 16)
        parts.append(
            f'<path d="M{x - size:.0f},{y:.0f} q{size / 2:.0f},-{size / 2:.0f} '
            f'{size:.0f},0 q{size / 2:.0f},-{size / 2:.0f} {size:.0f},0" '
            'fill="none" stroke="#1c1c28" stroke-width="2.5" stroke-linecap="round"/>'
        )
    return "".join(parts)


def _bokeh(rng: random.Random) -> str:
    hue = rng.random()
    parts = [
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="{hsl(hue, 0.45, 0.1)}"/>',
        '<defs><filter id="soft"><feGaussianBlur stdDeviation="6"/></filter></defs>',
    ]
    for _ in range(rng.randint(28, 44)):
        colour = hsl(hue + rng.uniform(-0.12, 0.12), 0.85, rng.uniform(0.5, 0.75))
        x, y = rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT)
        parts.append(
            f'<circle cx="{x:.0f}" cy="{y:.0f}" '
            f'r="{rng.uniform(12, 80):.0f}" fill="{colour}" '
            f'fill-opacity="{rng.uniform(0.15, 0.55):.2f}" filter="url(#soft)"/>'
        )
    return "".join(parts)


def _waves(rng: random.Random) -> str:
    hue = rng.uniform(0.45, 0.7)
    sun_x, sun_y = rng.uniform(150, 650), rng.uniform(180, 260)
    parts = [
        _sky(rng, hue),
        f'<circle cx="{sun_x:.0f}" cy="{sun_y:.0f}" r="150" fill="url(#glow)"/>',
        f'<circle cx="{sun_x:.0f}" cy="{sun_y:.0f}" r="46" '
        f'fill="{hsl(hue + 0.55, 0.9, 0.8)}"/>',
    ]
    for layer in range(6):
        base = 300 + layer * 50
        amplitude = rng.uniform(10, 28)
        period = rng.uniform(120, 220)
        path = f"M0,{HEIGHT} L0,{base:.0f}"
        x = 0.0
        while x < WIDTH:
            path += f" q{period / 4:.0f},-{amplitude:.0f} {period / 2:.0f},0"
            path += f" q{period / 4:.0f},{amplitude:.0f} {period / 2:.0f},0"
            x += period
        path += f" L{WIDTH},{HEIGHT} Z"
        colour = hsl(hue + layer * 0.015, 0.6, 0.55 - layer * 0.07)
        parts.append(f'<path d="{path}" fill="{colour}" fill-opacity="0.92"/>')
    return "".join(parts)
