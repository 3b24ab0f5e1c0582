// Saving text the kernel or the view produced as a file in the browser's downloads.

/** Save `text` as a file named `name` (a link to a blob URL, clicked once). */
export function saveText(name: string, text: string, type = "text/plain"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
