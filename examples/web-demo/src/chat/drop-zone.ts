/**
 * Files dropped anywhere on the open conversation (not only on the composer) go to the kit's composer,
 * which uploads them with progress and sends them with the next message: the drop is handed on to the
 * composer's form as the same native event, so the kit needs no second entry point.
 */
import type { RefObject } from 'react';
import { useEffect, useState } from 'react';

/** Makes `area` a drop zone for the composer inside it; true while files are dragged over it. */
export function useDropZone(area: RefObject<HTMLElement | null>): boolean {
  const [dropping, setDropping] = useState(false);
  useEffect(() => {
    const el = area.current;
    if (!el) return;
    const composer = () => el.querySelector<HTMLFormElement>('form.natter-composer');
    const hasFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false;
    const over = (event: DragEvent) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      setDropping(true);
    };
    const leave = (event: DragEvent) => {
      // Moving onto a child element is not leaving the area.
      if (!(event.relatedTarget instanceof Node && el.contains(event.relatedTarget))) setDropping(false);
    };
    const drop = (event: DragEvent) => {
      setDropping(false);
      const form = composer();
      // Drops on the composer itself are the kit's already.
      if (!form || !hasFiles(event) || form.contains(event.target as Node)) return;
      event.preventDefault();
      form.dispatchEvent(
        new DragEvent('drop', { dataTransfer: event.dataTransfer, bubbles: true, cancelable: true }),
      );
    };
    el.addEventListener('dragover', over);
    el.addEventListener('dragleave', leave);
    el.addEventListener('drop', drop);
    return () => {
      el.removeEventListener('dragover', over);
      el.removeEventListener('dragleave', leave);
      el.removeEventListener('drop', drop);
    };
  }, [area]);
  return dropping;
}
