// A one-line, self-clearing message about the outcome of the user's last action.

import { useEffect, useRef, useState } from "preact/hooks";

export interface NoticeValue {
  text: string;
  tone: "ok" | "error";
}

export function useNotice(ms = 6000): [NoticeValue | null, (text: string, tone: NoticeValue["tone"]) => void] {
  const [notice, setNotice] = useState<NoticeValue | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const say = (text: string, tone: NoticeValue["tone"]) => {
    clearTimeout(timer.current);
    setNotice({ text, tone });
    timer.current = setTimeout(() => setNotice(null), ms);
  };
  return [notice, say];
}

export function Notice({ notice }: { notice: NoticeValue | null }) {
  return (
    <div class={`pw-notice${notice ? ` pw-notice-${notice.tone}` : ""}`} role="status" aria-live="polite">
      {notice?.text ?? ""}
    </div>
  );
}
