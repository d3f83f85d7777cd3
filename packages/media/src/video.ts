import { execFile } from 'node:child_process';
import path from 'node:path';

/** ffmpeg executables, or `false` for none. */
export type FfmpegSettings = { ffmpeg: string; ffprobe: string; timeoutMs: number } | false;

/** What ffprobe and ffmpeg tell about a video; fields they could not get are missing. */
export interface VideoFacts {
  width?: number;
  height?: number;
  durationMs?: number;
  /** A PNG of a frame near the start, when ffmpeg could extract one. */
  poster?: string;
}

const available = new Map<string, Promise<boolean>>();

/** Whether `ffmpeg` runs here (checked once per executable). */
export function ffmpegAvailable(settings: FfmpegSettings): Promise<boolean> {
  if (!settings) return Promise.resolve(false);
  const key = `${settings.ffmpeg}\0${settings.ffprobe}`;
  let known = available.get(key);
  if (!known) {
    known = Promise.all([
      run(settings.ffmpeg, ['-version'], 5_000),
      run(settings.ffprobe, ['-version'], 5_000),
    ]).then(
      () => true,
      () => false,
    );
    available.set(key, known);
  }
  return known;
}

function run(file: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { timeout: timeoutMs, maxBuffer: 1024 * 1024, killSignal: 'SIGKILL' },
      (error, stdout) => (error ? reject(error) : resolve(stdout)),
    );
  });
}

/**
 * Reads a video's size and duration with ffprobe and grabs a poster frame with ffmpeg (at one
 * second, or the middle of shorter videos). Each run is bounded by `timeoutMs` and killed after it. A
 * video they cannot read is still stored, only without these facts: the player is the judge.
 */
export async function inspectVideo(
  input: string,
  settings: FfmpegSettings,
  dir: string,
): Promise<VideoFacts> {
  if (!settings || !(await ffmpegAvailable(settings))) return {};
  const facts: VideoFacts = {};
  try {
    const probe = await run(
      settings.ffprobe,
      [
        '-v',
        'error',
        '-select_streams',
        'v:0',
        '-show_entries',
        'stream=width,height:format=duration',
        '-of',
        'json',
        input,
      ],
      settings.timeoutMs,
    );
    const parsed = JSON.parse(probe) as {
      streams?: Array<{ width?: number; height?: number }>;
      format?: { duration?: string };
    };
    const stream = parsed.streams?.[0];
    if (stream?.width && stream.height) {
      facts.width = stream.width;
      facts.height = stream.height;
    }
    const seconds = Number(parsed.format?.duration);
    if (Number.isFinite(seconds) && seconds > 0) facts.durationMs = Math.round(seconds * 1000);
  } catch {
    return facts;
  }
  const poster = path.join(dir, 'poster.png');
  const at = facts.durationMs === undefined ? 0 : Math.min(1, facts.durationMs / 2000);
  try {
    await run(
      settings.ffmpeg,
      [
        '-v',
        'error',
        '-nostdin',
        '-ss',
        String(at),
        '-i',
        input,
        '-frames:v',
        '1',
        '-f',
        'image2',
        '-c:v',
        'png',
        poster,
      ],
      settings.timeoutMs,
    );
    facts.poster = poster;
  } catch {
    // No poster: stored without thumbnails.
  }
  return facts;
}
