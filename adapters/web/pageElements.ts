/** The feed page's fixed elements (adapters/web/index.html), looked up once when the page's script runs. */

export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

export const feed = $<HTMLOListElement>('feed');
export const sentinel = $('sentinel');
export const status = $('status');
export const count = $('count');
export const retry = $<HTMLButtonElement>('retry');
export const alertBox = $('alert');
export const notice = $('notice');
