// A toast about the outcome of the user's last action: it floats over the view (never shifts
// the content), an outcome clears itself after a few seconds, an error stays until dismissed.

import { useEffect, useRef, useState } from "preact/hooks";

export interface NoticeValue {
  text: string;
  tone: "ok" | "error";
}

export function useNotice(ms = 6000): [NoticeValue | null, (text: string, tone: NoticeValue["tone"]) => void, () => void] {
  const [notice, setNotice] = useState<NoticeValue | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const say = (text: string, tone: NoticeValue["tone"]) => {
    clearTimeout(timer.current);
    setNotice({ text, tone });
    if (tone === "ok") timer.current = setTimeout(() => setNotice(null), ms);
  };
  const dismiss = () => {
    clearTimeout(timer.current);
    setNotice(null);
  };
  return [notice, say, dismiss];
}

/** `alerts`: the slot of notifications (runs finished, jobs failed), at the bottom of the view,
 * apart from the outcome of the user's own actions at the top. */
export function Notice({ notice, onDismiss, alerts = false }: { notice: NoticeValue | null; onDismiss?: () => void; alerts?: boolean }) {
  return (
    <div class={`pw-toast-slot${alerts ? " pw-alert-slot" : ""}`} role="status" aria-live="polite" aria-label={alerts ? "Notifications" : undefined}>
      {notice && (
        <div class={`pw-notice pw-notice-${notice.tone}`}>
          <span>{notice.text}</span>
          {notice.tone === "error" && onDismiss && (
            <button type="button" class="pw-icon-btn pw-toast-close" aria-label="Dismiss" onClick={onDismiss}>
              ×
            </button>
          )}
        </div>
      )}
    </div>
  );
}
