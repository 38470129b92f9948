"""The demo's illustrations, drawn locally with Pillow: one scene per subject (a harbour
with cranes, a ferry at sea, a container ship, a terminal, a workshop, a city at dusk, tall
ships), each its own composition, deterministic (no randomness), 1600x900."""

from __future__ import annotations

from collections.abc import Callable

from PIL import Image, ImageDraw

WIDTH, HEIGHT = 1600, 900
RGB = tuple[int, int, int]
INK: RGB = (25, 25, 35)


def _sky(draw: ImageDraw.ImageDraw, top: RGB, bottom: RGB, until: int = HEIGHT) -> None:
    for y in range(until):
        mix = y / until
        draw.line(
            [(0, y), (WIDTH, y)],
            fill=tuple(int(a + (b - a) * mix) for a, b in zip(top, bottom, strict=True)),
        )


def _sea(draw: ImageDraw.ImageDraw, horizon: int, colour: RGB) -> None:
    draw.rectangle([0, horizon, WIDTH, HEIGHT], fill=colour)
    for n in range(14):
        y = horizon + 20 + n * 28
        shade = tuple(min(255, c + 18) for c in colour)
        for x in range((n * 97) % 180, WIDTH, 260):
            draw.line([(x, y), (x + 90, y)], fill=shade, width=3)


def harbour(draw: ImageDraw.ImageDraw) -> None:
    _sky(draw, (38, 52, 84), (196, 120, 64))
    horizon = int(HEIGHT * 0.68)
    draw.rectangle([0, horizon, WIDTH, HEIGHT], fill=(13, 17, 28))
    for n in range(7):
        left = 120 + n * 210
        tall = 160 + (n * 53) % 170
        draw.rectangle([left, horizon - tall, left + 26, horizon], fill=INK)
        draw.line(
            [(left + 13, horizon - tall), (left + 130, horizon - tall - 40)], fill=INK, width=10
        )
    draw.ellipse([1180, 140, 1320, 280], fill=(250, 226, 170))


def ferry(draw: ImageDraw.ImageDraw) -> None:
    _sky(draw, (120, 160, 200), (235, 215, 190), 560)
    draw.polygon([(0, 560), (300, 470), (620, 560)], fill=(70, 90, 80))  # headland
    _sea(draw, 560, (30, 70, 100))
    hull = [(520, 600), (1180, 600), (1120, 680), (580, 680)]
    draw.polygon(hull, fill=(245, 245, 240))
    draw.rectangle([640, 530, 1060, 600], fill=(250, 250, 250))
    for x in range(660, 1040, 40):
        draw.rectangle([x, 550, x + 24, 572], fill=(60, 90, 130))
    draw.rectangle([900, 460, 960, 530], fill=(180, 30, 30))
    draw.rectangle([900, 460, 960, 475], fill=INK)
    draw.line([(580, 690), (1120, 690)], fill=(200, 220, 230), width=4)  # wake


def container_ship(draw: ImageDraw.ImageDraw) -> None:
    _sky(draw, (10, 40, 60), (230, 150, 80), 600)
    draw.ellipse([200, 420, 420, 640], fill=(250, 190, 110))
    _sea(draw, 600, (20, 40, 55))
    draw.polygon([(260, 600), (1420, 600), (1340, 700), (330, 700)], fill=(40, 40, 50))
    colours = [(190, 60, 50), (40, 110, 160), (220, 170, 40), (60, 140, 90), (150, 150, 160)]
    for row in range(3):
        for column in range(14):
            x = 360 + column * 66
            y = 560 - row * 40
            draw.rectangle([x, y, x + 62, y + 38], fill=colours[(row * 3 + column) % 5])
    draw.rectangle([1300, 470, 1380, 600], fill=(235, 235, 230))  # bridge


def terminal(draw: ImageDraw.ImageDraw) -> None:
    _sky(draw, (90, 170, 210), (210, 235, 245), 640)
    draw.rectangle([0, 640, WIDTH, HEIGHT], fill=(120, 120, 115))
    colours = [(200, 80, 40), (40, 90, 150), (230, 190, 60), (70, 130, 80)]
    for stack in range(9):
        for level in range(1 + stack % 4):
            x = 80 + stack * 170
            y = 600 - level * 44
            draw.rectangle([x, y, x + 150, y + 40], fill=colours[(stack + level) % 4])
    for n in range(3):
        left = 250 + n * 480
        draw.rectangle([left, 250, left + 20, 640], fill=(210, 90, 30))
        draw.rectangle([left + 180, 250, left + 200, 640], fill=(210, 90, 30))
        draw.rectangle([left - 60, 230, left + 320, 260], fill=(210, 90, 30))
        draw.line([(left + 100, 260), (left + 100, 420)], fill=INK, width=4)


def workshop(draw: ImageDraw.ImageDraw) -> None:
    _sky(draw, (220, 200, 150), (160, 130, 90))  # a warm wall
    draw.polygon([(1100, 0), (1500, 0), (1250, 900), (700, 900)], fill=(240, 225, 180))  # sunlight
    draw.rectangle([0, 600, WIDTH, 660], fill=(110, 70, 40))  # bench top
    draw.rectangle([0, 660, WIDTH, HEIGHT], fill=(80, 50, 30))
    draw.line([(120, 140), (1480, 140)], fill=(90, 60, 40), width=12)  # tool rail
    for n in range(8):
        x = 200 + n * 160
        draw.line([(x, 140), (x, 260 + (n % 3) * 40)], fill=(70, 70, 80), width=14)
    draw.rounded_rectangle([420, 420, 860, 600], radius=24, fill=(150, 40, 40))  # radio
    draw.ellipse([460, 450, 590, 580], fill=(60, 40, 40))
    draw.rectangle([640, 470, 820, 520], fill=(230, 220, 180))
    draw.line([(1000, 585), (1260, 560)], fill=(230, 190, 40), width=18)  # screwdriver
    draw.line([(1260, 560), (1380, 549)], fill=(180, 180, 190), width=6)


def city(draw: ImageDraw.ImageDraw) -> None:
    _sky(draw, (30, 30, 60), (120, 90, 200))
    lit = (250, 220, 120)
    for n in range(11):
        left = n * 150
        tall = 220 + (n * 137) % 330
        draw.rectangle([left, HEIGHT - tall, left + 130, HEIGHT], fill=(20, 20, 40))
        for row in range(HEIGHT - tall + 20, HEIGHT - 20, 40):
            for column in range(left + 14, left + 120, 30):
                if (row // 40 + column // 30 + n) % 3:
                    draw.rectangle([column, row, column + 14, row + 20], fill=lit)
    draw.rectangle([720, 260, 860, HEIGHT], fill=(50, 45, 70))  # town hall tower
    draw.polygon([(700, 260), (790, 150), (880, 260)], fill=(50, 45, 70))
    draw.ellipse([745, 290, 835, 380], fill=(240, 235, 210))
    draw.line([(790, 335), (790, 300)], fill=INK, width=5)
    draw.line([(790, 335), (815, 345)], fill=INK, width=5)


def tall_ships(draw: ImageDraw.ImageDraw) -> None:
    _sky(draw, (90, 30, 40), (240, 190, 120), 620)
    _sea(draw, 620, (40, 50, 70))
    draw.rectangle([0, 700, WIDTH, HEIGHT], fill=(110, 100, 90))  # harbour wall
    for n, left in enumerate((160, 640, 1120)):
        draw.polygon(
            [(left, 620), (left + 360, 620), (left + 320, 680), (left + 40, 680)], fill=(70, 40, 30)
        )
        for mast in range(3):
            x = left + 70 + mast * 110
            top = 220 + ((n + mast) % 2) * 40
            draw.line([(x, top), (x, 620)], fill=INK, width=6)
            for sail in range(3):
                y = top + 30 + sail * 110
                draw.rectangle(
                    [x - 45 + sail * 5, y, x + 45 - sail * 5, y + 85], fill=(245, 240, 225)
                )
        flags = [(200, 40, 40), (40, 90, 170), (230, 190, 40)]
        for f in range(6):
            x = left + 40 + f * 50
            draw.polygon(
                [(x, 250 + f * 8), (x + 20, 250 + f * 8), (x + 10, 270 + f * 8)], fill=flags[f % 3]
            )


SCENES: dict[str, Callable[[ImageDraw.ImageDraw], None]] = {
    "harbour": harbour,
    "ferry": ferry,
    "container_ship": container_ship,
    "terminal": terminal,
    "workshop": workshop,
    "city": city,
    "tall_ships": tall_ships,
}


def draw(scene: str) -> Image.Image:
    picture = Image.new("RGB", (WIDTH, HEIGHT))
    SCENES[scene](ImageDraw.Draw(picture))
    return picture
